/**
 * The launch actions: a cell through the kernel (so its variables travel in
 * and out), a whole notebook, an image's own program (a container job) or a
 * schedule through the REST API, and re-runs.
 */
import {
  Dialog,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';

import { ICodeCellModel } from '@jupyterlab/cells';

import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import {
  BuiltinBackend,
  ContainerJobAPI,
  IJob,
  INotebookParameter,
  ISchedule,
  ISubmitJob,
  describeError
} from './api';

import { initialChoice } from './backends';

import {
  METADATA_KEY,
  cellCode,
  magicLineOf,
  readMetadata,
  withMagicLine
} from './cellmagic';

import { containerJob } from './container';

import { IDefaults, initialOptions } from './defaults';

import {
  cellLine,
  cellProblems,
  containerFormProblems,
  notebookJob,
  notebookProblems,
  scheduleBody,
  scheduleProblems
} from './formchecks';

import { readLine, unreadable } from './magicline';

import { JobListModel } from './model';

import { editBody, editInitial, editProblems } from './scheduleedit';

import { NotebookJobs } from './notebookjobs';

import { Submissions, submissionNotices } from './submissions';

import { context, formLoop } from './formloop';

import { onForm } from './widgets/formfields';

import { askRerunPlace } from './jobasks';

/**
 * A copy of code cell `cell` inserted below it (its code and its options,
 * not the jobs it ran nor its output), for a re-run that keeps its output.
 */
function copyBelow(panel: NotebookPanel, cell: ICodeCellModel): ICodeCellModel {
  const model = panel.model!;
  const index = [...model.cells].indexOf(cell);
  const options = readMetadata(cell.getMetadata(METADATA_KEY)).options;
  model.sharedModel.insertCell(index + 1, {
    cell_type: 'code',
    source: cell.sharedModel.getSource()
  });
  const copy = model.cells.get(index + 1) as ICodeCellModel;
  if (options) {
    copy.setMetadata(METADATA_KEY, { options });
  }
  return copy;
}

export interface ILauncherOptions {
  api: ContainerJobAPI;
  model: JobListModel;
  notebookJobs: NotebookJobs;
  submissions: Submissions;
  defaults: () => IDefaults;
  /** Open a job's detail view. */
  openJob: (id: string) => void;
}

export class Launcher {
  constructor(private readonly _o: ILauncherOptions) {}

  /**
   * "Run cell in container" / "Submit cell to Vertex": the form starts from
   * the cell's `%%containerjob` line (else the settings and the cell's last
   * choice); the fields show what they can of it and Other flags keeps
   * every other word. The line goes back with the fields' flags first and
   * those words unchanged after them, then the cell runs in the kernel with
   * the extension loaded.
   */
  async runCell(panel: NotebookPanel, backend: BuiltinBackend): Promise<void> {
    const title =
      backend === 'vertex'
        ? 'Submit cell to Vertex AI'
        : 'Run cell in container';
    const cell = panel.content.activeCell;
    if (!cell || cell.model.type !== 'code') {
      await showErrorMessage(
        title,
        'Select a code cell first: only code cells run as container jobs.'
      );
      return;
    }
    const model = cell.model as ICodeCellModel;
    const source = model.sharedModel.getSource();
    const line = magicLineOf(source);
    const previous =
      readMetadata(model.getMetadata(METADATA_KEY)).options ?? {};
    const { server, backends, availability } = await context(
      this._o.api,
      'cell',
      backend
    );
    const choice = initialChoice(backends, backend);
    let start = {
      options: initialOptions(
        this._o.defaults(),
        previous.backend === backend ? previous : {}
      ),
      rest: ''
    };
    if (line !== null) {
      const read = await readLine(this._o.api, line, name =>
        onForm(name, choice, 'cell')
      );
      const problem = unreadable(read);
      if (problem) {
        await showErrorMessage(title, `${problem}, then run the action again.`);
        return;
      }
      start = { options: read.fields, rest: read.rest };
    }
    const chosen = await formLoop(
      title,
      backend === 'vertex' ? 'Submit' : 'Run',
      {
        backends,
        availability,
        kind: 'cell',
        options: { ...start.options, backend },
        rest: start.rest,
        magicLine: body => this._o.api.magicLine(body),
        server,
        subject:
          'The cell runs in the kernel through %%containerjob: its variables go in and come back.',
        validate: values => cellProblems(this._o.api, values, cellCode(source))
      },
      values => cellLine(this._o.api, values)
    );
    if (!chosen) {
      return;
    }
    const metadata = readMetadata(model.getMetadata(METADATA_KEY));
    model.setMetadata(METADATA_KEY, {
      ...metadata,
      options: chosen.options
    });
    model.sharedModel.setSource(
      withMagicLine(model.sharedModel.getSource(), chosen.line)
    );
    await this._runInKernel(panel, model, title);
  }

  /** "Run notebook in container" / "Submit notebook to Executor". */
  async runNotebook(
    panel: NotebookPanel,
    backend: BuiltinBackend
  ): Promise<IJob | null> {
    const title =
      backend === 'executor'
        ? 'Submit notebook to Vertex AI Executor'
        : 'Run notebook in container';
    const path = await this._savedPath(panel, title);
    if (path === null) {
      return null;
    }
    const [{ server, backends, availability }, declared] = await Promise.all([
      context(this._o.api, 'notebook', backend),
      this._parameters(path)
    ]);
    const job = await formLoop(
      title,
      backend === 'executor' ? 'Submit' : 'Run',
      {
        backends,
        availability,
        kind: 'notebook',
        options: { ...initialOptions(this._o.defaults()), backend },
        server,
        parameters: declared,
        subject: `Notebook ${path}`,
        validate: values =>
          notebookProblems(this._o.api, path, declared, values)
      },
      async values =>
        this.submit(await notebookJob(this._o.api, path, declared, values))
    );
    if (job) {
      this._o.openJob(job.id);
    }
    return job;
  }

  /**
   * "Run a container": an image's ENTRYPOINT, or the Command, with the
   * Arguments in place of its CMD; no notebook and no Python needed. With
   * `config`, the CustomJob file chosen (the fields override it).
   */
  async runContainer(config = ''): Promise<IJob | null> {
    const title = 'Run a container';
    const defaults = this._o.defaults();
    const { server, backends, availability } = await context(
      this._o.api,
      'container',
      defaults.backend
    );
    const job = await formLoop(
      title,
      'Run',
      {
        backends,
        availability,
        kind: 'container',
        // A file names its image: the settings' default would override it.
        options: {
          ...initialOptions(defaults),
          ...(config ? { image: '' } : {})
        },
        required: ['image'],
        args: '',
        config,
        readConfig: path => this._o.api.customJobFile(path),
        server,
        subject:
          "The image's ENTRYPOINT, or the Command, runs with the Arguments in place of the image's CMD: no Python is needed in the image.",
        validate: values => containerFormProblems(this._o.api, values)
      },
      values =>
        this.submit(containerJob(values.options, values.args, values.config))
    );
    if (job) {
      this._o.openJob(job.id);
    }
    return job;
  }

  /** "Schedule notebook": `POST schedules`. */
  async scheduleNotebook(panel: NotebookPanel): Promise<void> {
    const title = 'Schedule notebook';
    const path = await this._savedPath(panel, title);
    if (path === null) {
      return;
    }
    const defaults = this._o.defaults();
    const backend: BuiltinBackend =
      defaults.backend === 'vertex' ? 'executor' : 'local';
    const [{ server, backends, availability }, declared] = await Promise.all([
      context(this._o.api, 'schedule', backend),
      this._parameters(path)
    ]);
    const name = path.replace(/^.*\//, '').replace(/\.ipynb$/, '');
    const schedule = await formLoop(
      title,
      'Schedule',
      {
        backends,
        availability,
        kind: 'notebook',
        options: { ...initialOptions(defaults), backend },
        server,
        parameters: declared,
        schedule: { name },
        preview: this._preview,
        subject: `Notebook ${path} (a snapshot is taken now)`,
        validate: values =>
          scheduleProblems(this._o.api, path, declared, values)
      },
      async values =>
        this._o.api.createSchedule(
          await scheduleBody(this._o.api, path, declared, values)
        )
    );
    if (schedule) {
      await showDialog({
        title: 'Notebook scheduled',
        body: `${schedule.name} (${schedule.id}) runs ${path}: ${schedule.description ?? schedule.cron} (${schedule.timezone}), cron "${schedule.cron}".`,
        buttons: [Dialog.okButton()]
      });
      this._schedulesChanged();
    }
  }

  /**
   * "Edit" of a schedule: the same form with its values; `PATCH` keeps its
   * snapshot and backend. Resolves with the saved schedule, or `null`.
   */
  async editSchedule(schedule: ISchedule): Promise<ISchedule | null> {
    const { server, backends } = await context(
      this._o.api,
      'schedule',
      schedule.backend as BuiltinBackend
    );
    const own = backends.filter(choice => choice.name === schedule.backend);
    const backend = own[0];
    const declared = schedule.path ? await this._parameters(schedule.path) : [];
    const initial = editInitial(schedule);
    const saved = await formLoop(
      `Edit schedule ${schedule.name || schedule.id}`,
      'Save',
      {
        backends: own,
        kind: 'notebook',
        options: initial.options,
        server,
        parameters: declared,
        parameterTexts: initial.parameterTexts,
        schedule: initial.schedule,
        preview: this._preview,
        subject: `Notebook ${schedule.path ?? schedule.notebook} (its snapshot keeps running)`,
        validate: values =>
          editProblems(this._o.api, schedule, backend, declared, values)
      },
      async values =>
        this._o.api.updateSchedule(
          schedule.id,
          await editBody(this._o.api, schedule, backend, declared, values)
        )
    );
    if (saved) {
      this._schedulesChanged();
    }
    return saved;
  }

  /** Set by the sidebar: refresh its schedules after a change. */
  onSchedulesChanged(callback: () => void): void {
    this._schedulesChanged = callback;
  }

  /**
   * `POST jobs`, remembered for re-runs and followed for the notification;
   * what the backend warned of as it sent the job is shown at once.
   */
  async submit(body: ISubmitJob): Promise<IJob> {
    const job = await this._o.api.submitJob(body);
    this._o.submissions.remember(job.id, body);
    this._o.model.watch(job);
    for (const notice of submissionNotices(job)) {
      Notification.emit(notice.message, notice.type, { autoClose: false });
    }
    return job;
  }

  /**
   * Why job `id` cannot be re-run from here, or `null` when it can: what is
   * missing, said for the job it is (its kind and notebook, when known).
   */
  rerunProblem(id: string): string | null {
    if (this._o.submissions.get(id) || this._o.notebookJobs.findCell(id)) {
      return null;
    }
    const job = this._o.model.get(id);
    const kind = (job?.spec as { kind?: unknown } | undefined)?.kind;
    if (job && kind === 'cell' && job.origin.endsWith('.ipynb')) {
      const name = job.origin.replace(/^.*[\\/]/, '');
      return `A cell job re-runs from its cell, and no open notebook's cell records ${id}: open ${name} ("Go to cell"), or, if it is open, the cell that ran it was deleted or reverted: run the cell again there.`;
    }
    if (job && kind === 'cell') {
      return 'This cell job was started outside an open notebook (a kernel of its own, or another JupyterLab): run its cell again where it ran.';
    }
    return "This JupyterLab did not submit this job (it came from the command line, a schedule, or before this browser's saved state), so the request to send again is not known here: run it again where it was started.";
  }

  /**
   * Run job `id` again: the same REST submission, or, for a cell job, its
   * cell again once the user said where (a new cell below by default: a
   * re-run never replaces an output without saying so); the new job's page
   * replaces the old one's.
   */
  async rerun(id: string): Promise<void> {
    const title = `Re-run ${id}`;
    const body = this._o.submissions.get(id);
    if (body) {
      try {
        const job = await this.submit(body);
        this._o.openJob(job.id);
      } catch (reason) {
        await showErrorMessage(title, describeError(reason));
      }
      return;
    }
    const found = this._o.notebookJobs.findCell(id);
    if (!found) {
      await showErrorMessage(title, this.rerunProblem(id) ?? '');
      return;
    }
    const cells = [...(found.panel.model?.cells ?? [])];
    const place = await askRerunPlace(
      id,
      found.panel.context.localPath,
      cells.indexOf(found.cell) + 1
    );
    if (place === null) {
      return;
    }
    const cell =
      place === 'below'
        ? copyBelow(found.panel, found.cell as ICodeCellModel)
        : (found.cell as ICodeCellModel);
    // The new job's page opens as soon as the cell announces it.
    const jobs = this._o.notebookJobs;
    const before = new Set(jobs.jobsOf(found.panel).map(job => job.id));
    const follow = (_: NotebookJobs, panel: NotebookPanel): void => {
      const fresh = jobs
        .jobsOf(panel)
        .find(job => job.cell === cell && !before.has(job.id));
      if (fresh) {
        jobs.changed.disconnect(follow);
        this._o.openJob(fresh.id);
      }
    };
    jobs.changed.connect(follow);
    try {
      await this._runInKernel(found.panel, cell, title);
    } finally {
      jobs.changed.disconnect(follow);
    }
  }

  /** Load the extension in the kernel, then run the cell where it is. */
  private async _runInKernel(
    panel: NotebookPanel,
    cell: ICodeCellModel,
    title: string
  ): Promise<void> {
    const session = panel.sessionContext;
    await session.ready;
    const kernel = session.session?.kernel;
    if (!kernel) {
      await showErrorMessage(
        title,
        'This notebook has no kernel: start one (Kernel > Change Kernel) and run the action again.'
      );
      return;
    }
    const reply = await kernel.requestExecute({
      code: '%load_ext containerjob',
      silent: true,
      store_history: false
    }).done;
    if (reply.content.status !== 'ok') {
      const detail =
        reply.content.status === 'error'
          ? `${reply.content.ename}: ${reply.content.evalue}`
          : reply.content.status;
      await showErrorMessage(
        title,
        `The kernel could not load containerjob (${detail}); install containerjob in the kernel's environment.`
      );
      return;
    }
    const notebook = panel.content;
    const index = [...(panel.model?.cells ?? [])].indexOf(cell);
    if (index < 0) {
      return;
    }
    notebook.activeCellIndex = index;
    notebook.deselectAll();
    await NotebookActions.run(notebook, session);
  }

  /** The notebook's path on the server, saved first so the server reads what is shown. */
  private async _savedPath(
    panel: NotebookPanel,
    title: string
  ): Promise<string | null> {
    try {
      if (panel.context.model.dirty) {
        await panel.context.save();
      }
    } catch (reason) {
      await showErrorMessage(
        title,
        `Could not save the notebook first: ${describeError(reason)}`
      );
      return null;
    }
    return panel.context.localPath;
  }

  private async _parameters(path: string): Promise<INotebookParameter[]> {
    try {
      return await this._o.api.notebookParameters(path);
    } catch {
      return [];
    }
  }

  private _schedulesChanged: () => void = () => undefined;
  private _preview = (cron: string, timezone: string) =>
    this._o.api.previewSchedule(cron, timezone);
}
