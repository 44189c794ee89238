import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { ICommandPalette } from '@jupyterlab/apputils';

import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { IStateDB } from '@jupyterlab/statedb';

import { ContainerJobAPI } from './api';

import {
  CommandIDs,
  ToolbarMenuExtension,
  cancelJob,
  registerCommands
} from './commands';

import { customJobFilePlugin } from './customjobmenu';

import { EMPTY_DEFAULTS, IDefaults, PLUGIN_ID, readDefaults } from './defaults';

import { jobRendererFactory } from './jobchip';

import { registerJobsTable } from './jobsview';

import { Launcher } from './launch';

import { Submissions } from './submissions';

import { JobListModel } from './model';

import { NotebookJobs } from './notebookjobs';

import { notifyWhenFinished } from './notify';

import { JobPage, jobDetailOptions } from './jobpage';

import { JobsPanel } from './widgets/panel';

import { SchedulesView } from './widgets/schedules';

export { API_NAMESPACE, ContainerJobRequestError, requestAPI } from './request';
export * from './api';

/**
 * The containerjob JupyterLab plugin: the job sidebar, the notebook actions
 * (toolbar menu, palette, cell context menu), job detail views, the job
 * output renderer and notifications when jobs end.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Run notebook cells and notebooks as container jobs: JupyterLab front end of containerjob.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IRenderMimeRegistry,
    IStateDB
  ],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null,
    state: IStateDB | null
  ): void => {
    const api = new ContainerJobAPI(app.serviceManager.serverSettings);
    const model = new JobListModel(api);
    const notebookJobs = new NotebookJobs(tracker, model);
    const submissions = new Submissions(state);
    void submissions
      .restore()
      .catch(reason =>
        console.warn('containerjob: cannot restore submissions', reason)
      );

    let defaults: IDefaults = EMPTY_DEFAULTS;
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          defaults = readDefaults(settings);
          settings.changed.connect(() => {
            defaults = readDefaults(settings);
          });
        })
        .catch(reason =>
          console.error('containerjob: cannot load settings', reason)
        );
    }

    const jobPage = new JobPage({
      shell: app.shell,
      restorer,
      openCommand: CommandIDs.openJob,
      detail: jobDetailOptions(app, api, model, notebookJobs, {
        rerun: jobId => launcher.rerun(jobId),
        rerunProblem: jobId => launcher.rerunProblem(jobId)
      })
    });
    const openJob = (id: string): void => jobPage.open(id);

    const launcher = new Launcher({
      api,
      model,
      notebookJobs,
      submissions,
      defaults: () => defaults,
      openJob
    });
    const schedules = new SchedulesView({
      api,
      model,
      openJob,
      started: job => {
        model.watch(job);
        openJob(job.id);
      },
      edit: schedule => launcher.editSchedule(schedule)
    });
    launcher.onSchedulesChanged(() => void schedules.refresh());

    const openTable = registerJobsTable(
      app,
      {
        api,
        open: openJob,
        placeOf: id => notebookJobs.placeOf(id),
        deleted: () => void model.refresh()
      },
      palette,
      restorer
    );
    const panel = new JobsPanel({
      model,
      notebookJobs,
      tracker,
      schedules,
      actions: { open: openJob, cancel: id => void cancelJob(api, model, id) },
      runContainer: () => void app.commands.execute(CommandIDs.runContainer),
      openTable
    });
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, panel.id);

    registerCommands({
      commands: app.commands,
      tracker,
      api,
      model,
      launcher,
      palette,
      openJob,
      refresh: () => panel.refresh(),
      openSidebar: () => app.shell.activateById(panel.id)
    });
    app.docRegistry.addWidgetExtension(
      'Notebook',
      new ToolbarMenuExtension(app.commands)
    );
    for (const [command, rank] of [
      [CommandIDs.runCell, 20],
      [CommandIDs.submitCellVertex, 21]
    ] as const) {
      app.contextMenu.addItem({
        command,
        selector: '.jp-Notebook .jp-CodeCell',
        rank
      });
    }
    rendermime?.addFactory(
      jobRendererFactory(model, {
        open: openJob,
        restore: (id, node) => void restoreBelow(tracker, id, node),
        getJob: id => api.getJob(id)
      })
    );
    notifyWhenFinished(model, () => defaults.notifications, openJob);

    api
      .version()
      .then(data =>
        console.debug(`containerjob server extension ${data.version}`)
      )
      .catch(reason =>
        console.error(
          'The containerjob server extension appears to be missing or failing: ' +
            `${String(reason)}; check that containerjob is installed in the Jupyter server's environment.`
        )
      );
  }
};

/**
 * A new cell below the one whose output holds `node`, running
 * `%containerjob fetch ID`: what the cell would have shown and set had its
 * kernel stayed (a restarted kernel gets the extension loaded first, quietly).
 */
async function restoreBelow(
  tracker: INotebookTracker,
  id: string,
  node: HTMLElement
): Promise<void> {
  const panel = tracker.find(p => p.node.contains(node));
  if (!panel) {
    return;
  }
  const notebook = panel.content;
  const index = notebook.widgets.findIndex(cell => cell.node.contains(node));
  if (index >= 0) {
    notebook.activeCellIndex = index;
  }
  NotebookActions.insertBelow(notebook);
  notebook.activeCell?.model.sharedModel.setSource(`%containerjob fetch ${id}`);
  await panel.sessionContext.ready;
  await panel.sessionContext.session?.kernel?.requestExecute({
    code: '%load_ext containerjob',
    silent: true,
    store_history: false
  }).done;
  await NotebookActions.run(notebook, panel.sessionContext);
}

export default [plugin, customJobFilePlugin];
