/**
 * Commands (palette, notebook toolbar menu, cell context menu) and the
 * notebook toolbar's "Container job" menu button.
 */
import {
  ICommandPalette,
  ToolbarButton,
  showErrorMessage
} from '@jupyterlab/apputils';

import { DocumentRegistry } from '@jupyterlab/docregistry';

import {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';

import { CommandRegistry } from '@lumino/commands';

import { IDisposable } from '@lumino/disposable';

import { Menu } from '@lumino/widgets';

import { ContainerJobAPI, describeError } from './api';

import { Launcher } from './launch';

import { JobListModel } from './model';

import { containerJobIcon } from './widgets/icons';

export const CommandIDs = {
  openSidebar: 'containerjob:open-sidebar',
  refresh: 'containerjob:refresh',
  openJob: 'containerjob:open-job',
  cancelJob: 'containerjob:cancel-job',
  rerunJob: 'containerjob:rerun-job',
  runCell: 'containerjob:run-cell',
  submitCellVertex: 'containerjob:submit-cell-vertex',
  runNotebook: 'containerjob:run-notebook',
  submitNotebookExecutor: 'containerjob:submit-notebook-executor',
  scheduleNotebook: 'containerjob:schedule-notebook',
  runContainer: 'containerjob:run-container'
} as const;

/** The launch actions, in menu order. */
export const NOTEBOOK_ACTIONS = [
  CommandIDs.runCell,
  CommandIDs.submitCellVertex,
  CommandIDs.runNotebook,
  CommandIDs.submitNotebookExecutor,
  CommandIDs.scheduleNotebook
];

export interface ICommandOptions {
  commands: CommandRegistry;
  tracker: INotebookTracker;
  api: ContainerJobAPI;
  model: JobListModel;
  launcher: Launcher;
  openSidebar: () => void;
  refresh: () => void;
  openJob: (id: string) => void;
  palette: ICommandPalette | null;
}

/** Cancel a job and show its new state at once; errors in a dialog. */
export async function cancelJob(
  api: ContainerJobAPI,
  model: JobListModel,
  id: string
): Promise<void> {
  try {
    model.update(await api.cancelJob(id));
  } catch (reason) {
    await showErrorMessage(`Cancel ${id}`, describeError(reason));
  }
}

export function registerCommands(o: ICommandOptions): void {
  const { commands, tracker, launcher } = o;
  const current = (): NotebookPanel | null => tracker.currentWidget;
  const hasNotebook = (): boolean => current() !== null;
  const onNotebook =
    (run: (panel: NotebookPanel) => Promise<unknown>) =>
    async (): Promise<void> => {
      const panel = current();
      if (panel) {
        await run(panel);
      }
    };

  commands.addCommand(CommandIDs.openSidebar, {
    label: 'Show container jobs',
    icon: containerJobIcon,
    execute: () => o.openSidebar()
  });
  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh container jobs',
    execute: () => o.refresh()
  });
  commands.addCommand(CommandIDs.openJob, {
    label: args => (args.id ? `Open job ${args.id}` : 'Open job'),
    execute: args => o.openJob(String(args.id))
  });
  commands.addCommand(CommandIDs.cancelJob, {
    label: args => (args.id ? `Cancel job ${args.id}` : 'Cancel job'),
    execute: args => cancelJob(o.api, o.model, String(args.id))
  });
  commands.addCommand(CommandIDs.rerunJob, {
    label: args => (args.id ? `Re-run job ${args.id}` : 'Re-run job'),
    isEnabled: args =>
      !args.id || launcher.rerunProblem(String(args.id)) === null,
    execute: args => launcher.rerun(String(args.id))
  });
  commands.addCommand(CommandIDs.runCell, {
    label: 'Run cell in container',
    caption:
      'Run the active cell in a local container through %%containerjob (variables go in and come back)',
    icon: containerJobIcon,
    isEnabled: hasNotebook,
    execute: onNotebook(panel => launcher.runCell(panel, 'local'))
  });
  commands.addCommand(CommandIDs.submitCellVertex, {
    label: 'Submit cell to Vertex AI',
    caption:
      'Run the active cell as a Vertex AI CustomJob through %%containerjob --backend vertex',
    isEnabled: hasNotebook,
    execute: onNotebook(panel => launcher.runCell(panel, 'vertex'))
  });
  commands.addCommand(CommandIDs.runNotebook, {
    label: 'Run notebook in container',
    caption:
      'Run the whole saved notebook with parameters in a local container',
    isEnabled: hasNotebook,
    execute: onNotebook(panel => launcher.runNotebook(panel, 'local'))
  });
  commands.addCommand(CommandIDs.submitNotebookExecutor, {
    label: 'Submit notebook to Vertex AI Executor',
    caption:
      'Run the whole saved notebook as a Vertex AI Workbench Executor job',
    isEnabled: hasNotebook,
    execute: onNotebook(panel => launcher.runNotebook(panel, 'executor'))
  });
  commands.addCommand(CommandIDs.scheduleNotebook, {
    label: 'Schedule notebook…',
    caption: 'Run the notebook on a cron schedule (locally or on the Executor)',
    isEnabled: hasNotebook,
    execute: onNotebook(panel => launcher.scheduleNotebook(panel))
  });
  commands.addCommand(CommandIDs.runContainer, {
    label: 'Run a container…',
    caption:
      "Run an image's own program (or a command) with arguments, locally or on Vertex AI; no notebook needed",
    execute: args =>
      launcher.runContainer(typeof args.config === 'string' ? args.config : '')
  });

  if (o.palette) {
    const category = 'Container Jobs';
    for (const command of [
      CommandIDs.openSidebar,
      CommandIDs.refresh,
      ...NOTEBOOK_ACTIONS,
      CommandIDs.runContainer
    ]) {
      o.palette.addItem({ command, category });
    }
  }
}

/**
 * Adds a "Container job ▾" button to every notebook toolbar; it opens a menu
 * of the launch actions under itself.
 */
export class ToolbarMenuExtension implements DocumentRegistry.IWidgetExtension<
  NotebookPanel,
  INotebookModel
> {
  constructor(commands: CommandRegistry) {
    this._menu = new Menu({ commands });
    this._menu.addClass('jp-ContainerJob-menu');
    for (const command of NOTEBOOK_ACTIONS) {
      this._menu.addItem({ command });
    }
    this._menu.addItem({ type: 'separator' });
    this._menu.addItem({ command: CommandIDs.runContainer });
  }

  createNew(panel: NotebookPanel): IDisposable {
    const button: ToolbarButton = new ToolbarButton({
      className: 'jp-ContainerJob-toolbarButton',
      icon: containerJobIcon,
      label: 'Container job ▾',
      tooltip: 'Run this cell or notebook as a container job',
      onClick: () => {
        const rect = button.node.getBoundingClientRect();
        this._menu.open(rect.left, rect.bottom);
      }
    });
    if (!panel.toolbar.insertAfter('cellType', 'containerjob', button)) {
      panel.toolbar.addItem('containerjob', button);
    }
    return button;
  }

  private _menu: Menu;
}
