/**
 * The job page: ONE main-area tab that shows one job at a time. Opening a
 * job shows it there (a new tab only when none is open), and the page is
 * restored after a reload, the JupyterLab way (a WidgetTracker the layout
 * restorer replays through the open-job command).
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';

import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';

import { Panel } from '@lumino/widgets';

import { BackendName, ContainerJobAPI, RunOptionName } from './api';

import { tableOptions } from './backends';

import { cancelJob } from './commands';

import { openExecuted } from './executed';

import { JobListModel } from './model';

import { NotebookJobs } from './notebookjobs';

import { goToOrigin, originAction } from './origin';

import { IJobDetailOptions, JobDetail } from './widgets/jobdetail';

import { containerJobIcon } from './widgets/icons';

/** The tab's content: the detail of the job shown now. */
class JobView extends Panel {
  constructor() {
    super();
    this.addClass('jp-ContainerJob-jobPage');
  }

  get jobId(): string {
    return this._detail?.jobId ?? '';
  }

  /** Show the job of `options`, in place of the one shown. */
  showJob(options: IJobDetailOptions): void {
    if (this._detail && !this._detail.isDisposed) {
      if (this._detail.jobId === options.jobId) {
        this._detail.refresh();
        return;
      }
      this._detail.dispose();
    }
    const detail = new JobDetail(options);
    this._detail = detail;
    this.title.label = options.jobId;
    detail.title.changed.connect(() => {
      this.title.label = detail.title.label;
      this.title.caption = detail.title.caption;
    });
    this.addWidget(detail);
  }

  private _detail: JobDetail | null = null;
}

export interface IJobPageOptions {
  shell: JupyterFrontEnd.IShell;
  restorer: ILayoutRestorer | null;
  /** The command that opens a job by `{ id }` (replayed on restore). */
  openCommand: string;
  /** What the detail of job `id` needs. */
  detail: (id: string) => IJobDetailOptions;
}

export class JobPage {
  constructor(private readonly _o: IJobPageOptions) {
    void _o.restorer?.restore(this._tracker, {
      command: _o.openCommand,
      args: widget => ({ id: widget.content.jobId }),
      name: () => 'job'
    });
  }

  /** Show job `id` on the page, opening the page when it is closed. */
  open(id: string): void {
    let widget = this._widget;
    if (!widget || widget.isDisposed) {
      widget = this._create();
    }
    widget.content.showJob(this._o.detail(id));
    void this._tracker.save(widget);
    this._o.shell.activateById(widget.id);
  }

  private _create(): MainAreaWidget<JobView> {
    const content = new JobView();
    const widget = new MainAreaWidget({ content });
    widget.id = 'containerjob-job-page';
    widget.title.icon = containerJobIcon;
    widget.title.closable = true;
    content.title.changed.connect(() => {
      widget.title.label = content.title.label;
      widget.title.caption = content.title.caption;
    });
    this._widget = widget;
    void this._tracker.add(widget);
    this._o.shell.add(widget, 'main');
    return widget;
  }

  private _tracker = new WidgetTracker<MainAreaWidget<JobView>>({
    namespace: 'containerjob-job'
  });
  private _widget: MainAreaWidget<JobView> | null = null;
}

/**
 * What the detail of job `id` needs: the API and the model, the launcher's
 * re-run, the way to the job's origin and to its executed notebook, and the
 * options its backend takes (the server's word, else the option table).
 */
export function jobDetailOptions(
  app: JupyterFrontEnd,
  api: ContainerJobAPI,
  model: JobListModel,
  notebookJobs: NotebookJobs,
  launch: Pick<IJobDetailOptions, 'rerun' | 'rerunProblem'>
): (id: string) => IJobDetailOptions {
  const backendOptions = async (
    name: BackendName
  ): Promise<ReadonlySet<RunOptionName>> => {
    const infos = await api.backends().catch(() => null);
    const info = infos?.find(i => i.name === name);
    return new Set(info ? info.options : tableOptions(name));
  };
  return id => ({
    api,
    model,
    jobId: id,
    cancel: jobId => cancelJob(api, model, jobId),
    ...launch,
    originAction: job => originAction(job, notebookJobs),
    goToOrigin: job => goToOrigin(app, notebookJobs, job),
    openNotebook: (job, file) => openExecuted(app, api, job, file),
    backendOptions,
    placeOf: jobId => notebookJobs.placeOf(jobId)
  });
}
