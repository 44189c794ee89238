/**
 * The jobs table in the main area: one per app, opened from the sidebar and
 * the command palette ("Open Container Jobs Table"), and brought back after
 * a page reload when it was open.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';

import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';

import { containerJobIcon } from './widgets/icons';

import {
  IJobsTableOptions,
  JobsTable,
  jobsTableWidget
} from './widgets/jobstable';

export const OPEN_TABLE = 'containerjob:open-jobs-table';

/** Register the command (and the palette item, the restorer); returns "open it". */
export function registerJobsTable(
  app: JupyterFrontEnd,
  options: IJobsTableOptions,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null
): () => void {
  const tracker = new WidgetTracker<MainAreaWidget<JobsTable>>({
    namespace: 'containerjob-jobs-table'
  });
  let table: MainAreaWidget<JobsTable> | null = null;
  app.commands.addCommand(OPEN_TABLE, {
    label: 'Open Container Jobs Table',
    caption:
      'Every container job in a full-width table: sort, filter, search, delete',
    icon: containerJobIcon,
    execute: () => {
      if (!table || table.isDisposed) {
        table = jobsTableWidget(options);
        void tracker.add(table);
        app.shell.add(table, 'main');
      }
      app.shell.activateById(table.id);
    }
  });
  palette?.addItem({ command: OPEN_TABLE, category: 'Container Jobs' });
  void restorer?.restore(tracker, {
    command: OPEN_TABLE,
    name: () => 'jobs-table'
  });
  return () => void app.commands.execute(OPEN_TABLE);
}
