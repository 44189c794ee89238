/**
 * One job in the main area: its facts (a container job's command and
 * arguments among them) and a way to its origin, live logs, output files
 * (download; an executed notebook also opens), the spec it ran with as its
 * backend uses it (secrets already redacted by the server), and cancel and
 * re-run.
 */
import { Message } from '@lumino/messaging';

import { Widget } from '@lumino/widgets';

import {
  ContainerJobAPI,
  IJob,
  IOutputFile,
  RunOptionName,
  describeError,
  isFinal
} from '../api';

import { containerFacts } from '../container';

import { liveSeconds, showDuration } from '../elapsed';

import { ICellPlace, readableName, scheduleOf } from '../jobnames';

import { LogStream } from '../logs';

import { CANCEL_LABEL, confirmCancel } from '../confirmcancel';

import { JobListModel } from '../model';

import { h, setChildren } from './dom';

import { formatSize, formatTime } from './format';

import { JobSpecView } from './jobspec';

import { ReplicasView } from './replicas';

import { setStatus } from './status';

/** The most log text kept in the view; older text is dropped with a notice. */
const MAX_LOG_CHARS = 2_000_000;

export interface IJobDetailOptions {
  api: ContainerJobAPI;
  model: JobListModel;
  jobId: string;
  cancel: (id: string) => Promise<void>;
  rerun: (id: string) => Promise<void>;
  /** Why the job cannot be re-run, or `null`. */
  rerunProblem: (id: string) => string | null;
  /** The label of the way to the job's origin ("Go to cell"), or `null`. */
  originAction: (job: IJob) => string | null;
  /** Go to the job's origin; resolves with what went wrong, or `null`. */
  goToOrigin: (job: IJob) => Promise<string | null>;
  /** Open output `file` (a notebook) of `job` in JupyterLab. */
  openNotebook: (job: IJob, file: string) => Promise<void>;
  /** The run options `backend` takes (its spec fields shown are theirs). */
  backendOptions: (backend: string) => Promise<ReadonlySet<RunOptionName>>;
  /** The open notebook's cell that launched the job, for its name. */
  placeOf?: (id: string) => ICellPlace | null;
}

export class JobDetail extends Widget {
  constructor(private readonly _o: IJobDetailOptions) {
    super();
    this.addClass('jp-ContainerJob-detail');
    this.id = `containerjob-job-${_o.jobId}`;
    this.node.dataset.jobId = _o.jobId;
    this._logs = new LogStream(_o.api, _o.jobId);
    this._logs.appended.connect((_, text) => this._appendLog(text));
    this._logs.stateChanged.connect(() => this._renderLogState());

    this._status = h('span', { class: 'jp-ContainerJob-status' });
    this._name = h('h2', {
      class: 'jp-ContainerJob-detail-name',
      text: _o.jobId
    });
    this._cancel = h('button', {
      class: 'jp-mod-styled jp-mod-warn jp-ContainerJob-button',
      text: CANCEL_LABEL,
      title: 'Stop the job now (it asks first when the job has run a while)',
      attrs: { 'data-action': 'cancel', type: 'button' },
      on: { click: () => void this._act(() => this._askCancel()) }
    });
    this._rerun = h('button', {
      class: 'jp-mod-styled jp-mod-accept jp-ContainerJob-button',
      text: 'Re-run',
      attrs: { 'data-action': 'rerun', type: 'button' },
      on: { click: () => void this._act(() => _o.rerun(_o.jobId)) }
    });
    this._facts = h('dl', { class: 'jp-ContainerJob-facts' });
    this._note = h('p', { class: 'jp-ContainerJob-message jp-mod-error' });
    this._note.hidden = true;
    this._message = h('p', { class: 'jp-ContainerJob-message' });
    this._logPre = h('pre', {
      class: 'jp-ContainerJob-logs',
      attrs: { 'aria-label': 'Logs' }
    });
    this._logState = h('p', { class: 'jp-ContainerJob-logState' });
    this._outputs = h('ul', { class: 'jp-ContainerJob-outputs' });
    this._replicas = new ReplicasView(_o.api, _o.jobId);
    this.node.append(
      h('header', { class: 'jp-ContainerJob-detail-header' }, [
        this._status,
        this._name,
        h('div', { class: 'jp-ContainerJob-actions' }, [
          this._cancel,
          this._rerun
        ])
      ]),
      this._message,
      this._facts,
      this._note,
      this._replicas.node,
      h('section', { class: 'jp-ContainerJob-section' }, [
        h('h3', { class: 'jp-ContainerJob-sectionTitle', text: 'Logs' }),
        this._logPre,
        this._logState
      ]),
      h('section', { class: 'jp-ContainerJob-section' }, [
        h('h3', {
          class: 'jp-ContainerJob-sectionTitle',
          text: 'Output files'
        }),
        this._outputs
      ]),
      this._spec.node
    );
    _o.model.changed.connect(this._onModelChanged, this);
    void this._load();
  }

  get jobId(): string {
    return this._o.jobId;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._logs.dispose();
    this._replicas.dispose();
    super.dispose();
  }

  /**
   * Show again what may have changed without a new job record: whether it
   * can be re-run (its notebook opened since), the way to its origin.
   */
  refresh(): void {
    if (this._job) {
      this._render(this._job);
    }
  }

  protected onAfterShow(msg: Message): void {
    this._setActive(true);
    this.refresh();
  }

  protected onAfterAttach(msg: Message): void {
    this._setActive(this.isVisible);
  }

  protected onAfterHide(msg: Message): void {
    this._setActive(false);
  }

  protected onBeforeDetach(msg: Message): void {
    this._setActive(false);
  }

  /** Logs and replicas are followed only while the page shows. */
  private _setActive(value: boolean): void {
    this._logs.active = value;
    this._replicas.active = value;
  }

  /** First fetch; an unfinished job is then followed by the model. */
  private async _load(): Promise<void> {
    try {
      const job = await this._o.api.getJob(this._o.jobId);
      this._options = await this._o.backendOptions(job.backend);
      this._code = job.code ?? null; // GET jobs/{id} alone sends it
      this._o.model.update(job);
      if (!isFinal(job.status)) {
        this._o.model.watch(job);
      }
      this._render(job);
    } catch (reason) {
      this._message.textContent = describeError(reason);
      this._message.classList.add('jp-mod-error');
    }
  }

  private _onModelChanged(): void {
    const job = this._o.model.get(this._o.jobId);
    if (job) {
      this._render(job);
    }
  }

  private _render(job: IJob): void {
    const before = this._job;
    this._job = job;
    const name = readableName(job, this._o.placeOf?.(job.id));
    // The tab drops ".ipynb": a tab named like the notebook would be taken for it.
    const short = name.replace(/\.ipynb\b/g, '');
    const label = short === job.id ? short : `${short} · ${job.id}`;
    this.title.label = `${label} (${job.status.toLowerCase()})`;
    this.title.caption = `${name} ${job.id}`;
    setStatus(this._status, job.status);
    setChildren(this._name, [
      name,
      h('span', { class: 'jp-ContainerJob-job-id', text: ` ${job.id}` })
    ]);
    this._replicas.job = job;
    const schedule = scheduleOf(job);
    this._cancel.hidden = isFinal(job.status); // a finished job has nothing to cancel
    this._cancel.disabled = job.status === 'CANCELLING';
    const problem = this._o.rerunProblem(job.id);
    this._rerun.disabled = problem !== null;
    this._rerun.title = problem ?? 'Run the same again';
    this._message.textContent = job.message;
    this._message.classList.toggle(
      'jp-mod-error',
      job.status === 'FAILED' || job.status === 'LOST'
    );
    this._message.hidden = !job.message;
    const facts: [string, string | HTMLElement][] = [
      ['ID', job.id],
      ['Backend', job.backend],
      ['Image', job.image],
      ...containerFacts(job),
      ['Created', formatTime(job.created_at)],
      ['Started', formatTime(job.started_at)],
      ['Finished', formatTime(job.finished_at)],
      [
        'Duration',
        job.started_at === null
          ? ''
          : showDuration(h('dd'), this._o.model, job.id)
      ],
      ['Exit code', job.exit_code === null ? '' : String(job.exit_code)],
      ['Origin', job.origin],
      ['Schedule', schedule ? `started by schedule ${schedule}` : ''],
      ['Backend ref', job.backend_ref]
    ];
    setChildren(
      this._facts,
      facts
        .filter(([, value]) => value)
        .flatMap(([label, value]) => [
          h('dt', { text: label }),
          label === 'Origin'
            ? this._origin(job)
            : typeof value === 'string'
              ? h('dd', { text: value })
              : value
        ])
    );
    this._spec.render(job, this._options, this._code);
    const finishedNow =
      isFinal(job.status) && (!before || !isFinal(before.status));
    if (finishedNow || !before) {
      void this._loadOutputs();
    }
    if (finishedNow) {
      this._logs.poke(); // drain the rest and learn `done`
    }
  }

  /** The origin, with the way to it (the cell, or the file) when there is one. */
  private _origin(job: IJob): HTMLElement {
    const action = this._o.originAction(job);
    return h('dd', {}, [
      job.origin,
      action &&
        h('button', {
          class: 'jp-ContainerJob-link',
          text: action,
          attrs: { 'data-action': 'origin', type: 'button' },
          on: {
            click: () =>
              void this._o.goToOrigin(job).then(
                problem => this._say(problem),
                reason => this._say(describeError(reason))
              )
          }
        })
    ]);
  }

  /** A line under the facts about what a link could not do (none: hidden). */
  private _say(problem: string | null): void {
    this._note.textContent = problem ?? '';
    this._note.hidden = problem === null;
  }

  private async _loadOutputs(): Promise<void> {
    let files: IOutputFile[];
    try {
      files = await this._o.api.outputs(this._o.jobId);
    } catch (reason) {
      setChildren(this._outputs, [
        h('li', { class: 'jp-ContainerJob-empty', text: describeError(reason) })
      ]);
      return;
    }
    if (!files.length) {
      const text =
        this._job && isFinal(this._job.status)
          ? 'No files.'
          : 'Files appear when the job ends.';
      setChildren(this._outputs, [
        h('li', { class: 'jp-ContainerJob-empty', text })
      ]);
      return;
    }
    const notebookJob = this._job?.spec.kind === 'notebook';
    setChildren(
      this._outputs,
      files.map(file =>
        h('li', {}, [
          notebookJob &&
            file.path.endsWith('.ipynb') &&
            h('button', {
              class: 'jp-mod-styled jp-ContainerJob-button',
              text: 'Open',
              title: `Open the executed notebook ${file.path} in JupyterLab (a copy next to the notebook it ran)`,
              attrs: { 'data-action': 'open-notebook', type: 'button' },
              on: {
                click: () =>
                  void this._o.openNotebook(this._job!, file.path).then(
                    () => this._say(null),
                    reason =>
                      this._say(
                        `Cannot open ${file.path}: ${describeError(reason)}`
                      )
                  )
              }
            }),
          h('a', {
            text: file.path,
            title: `Download ${file.path}`,
            attrs: {
              href: this._o.api.outputURL(this._o.jobId, file.path),
              download: file.path.replace(/^.*\//, '')
            },
            on: {
              click: event => {
                event.preventDefault();
                void this._download(file.path);
              }
            }
          }),
          h('span', {
            class: 'jp-ContainerJob-job-meta',
            text: ` ${formatSize(file.size)} · ${formatTime(file.modified)}`
          })
        ])
      )
    );
  }

  /** Fetch with the server's token, then save through a temporary link. */
  private async _download(path: string): Promise<void> {
    try {
      const blob = await this._o.api.downloadOutput(this._o.jobId, path);
      const url = URL.createObjectURL(blob);
      const link = h('a', {
        attrs: { href: url, download: path.replace(/^.*\//, '') }
      });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (reason) {
      this._logState.textContent = `Download of ${path} failed: ${describeError(reason)}`;
    }
  }

  private _appendLog(text: string): void {
    const pre = this._logPre;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(text);
    this._logChars += text.length;
    if (this._logChars > MAX_LOG_CHARS) {
      const all = pre.textContent ?? '';
      const kept = all.slice(all.length - MAX_LOG_CHARS / 2);
      pre.textContent = `… earlier lines dropped from this view; download logs from the output files …\n${kept}`;
      this._logChars = pre.textContent.length;
    }
    if (atBottom) {
      pre.scrollTop = pre.scrollHeight;
    }
    this._renderLogState();
  }

  private _renderLogState(): void {
    const stream = this._logs;
    this._logState.textContent = stream.error
      ? `Logs unavailable: ${stream.error}`
      : stream.done
        ? this._logChars
          ? 'End of logs.'
          : 'The job wrote no logs.'
        : this._logChars
          ? ''
          : 'Waiting for logs…';
  }

  /** Cancel, once the user said so when the job has run a while (confirmcancel.ts). */
  private async _askCancel(): Promise<void> {
    const job = this._job;
    const name = job ? readableName(job, this._o.placeOf?.(job.id)) : '';
    if (job && (await confirmCancel(job, runSeconds(job), name))) {
      await this._o.cancel(this._o.jobId);
    }
  }

  private async _act(action: () => Promise<void>): Promise<void> {
    this._cancel.disabled = true;
    this._rerun.disabled = true;
    try {
      await action();
    } finally {
      if (this._job) {
        this._render(this._job);
      }
    }
  }

  private _job: IJob | null = null;
  private _options: ReadonlySet<RunOptionName> | null = null;
  private _note: HTMLElement;
  private _logChars = 0;
  private _logs: LogStream;
  private _status: HTMLElement;
  private _name: HTMLElement;
  private _cancel: HTMLButtonElement;
  private _rerun: HTMLButtonElement;
  private _facts: HTMLElement;
  private _message: HTMLElement;
  private _logPre: HTMLElement;
  private _logState: HTMLElement;
  private _outputs: HTMLElement;
  private _spec = new JobSpecView();
  private _code: string | null = null;
  private _replicas: ReplicasView;
}

/**
 * Seconds `job` has run now (null: not started): its last known duration
 * can be a poll old, so the clock since its start counts too.
 */
function runSeconds(job: IJob): number | null {
  if (job.started_at === null) {
    return null;
  }
  const since = Date.now() / 1000 - job.started_at;
  return Math.max(liveSeconds(job, undefined) ?? 0, since);
}
