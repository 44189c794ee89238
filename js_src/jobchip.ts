/**
 * Renders the magic's job output ({@link JOB_MIME}) in a notebook: the job's
 * live status, a link that opens it and, once the job has ended, one that
 * restores the cell's output and variables into the kernel (for a notebook
 * reopened after its kernel went away); text/plain remains for nbconvert.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { Widget } from '@lumino/widgets';

import { IJob, JobStatus, isFinal } from './api';

import { announcements, JOB_MIME } from './cellmagic';

import { JobListModel } from './model';

import { h } from './widgets/dom';

import { showDuration } from './elapsed';

import { setStatus, statusBadge } from './widgets/status';

/** What a chip needs beyond the job list: open a job, restore it, read one. */
export interface IChipActions {
  open: (id: string) => void;
  /** Runs `%containerjob fetch ID` below the cell whose output holds `node`. */
  restore: (id: string, node: HTMLElement) => void;
  getJob: (id: string) => Promise<IJob>;
}

class JobChip extends Widget implements IRenderMime.IRenderer {
  constructor(
    private readonly _model: JobListModel,
    private readonly _actions: IChipActions
  ) {
    super();
    this.addClass('jp-ContainerJob-chip');
    _model.changed.connect(this._update, this);
  }

  /**
   * Called when the magic announces the job and again when the kernel saw it
   * end: the status shown is always the job list's record (the sidebar's), so
   * an end the kernel saw first makes the chip read the record at once.
   */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const [announced] = announcements([{ data: model.data }]);
    if (!announced) {
      this.node.textContent = 'containerjob: malformed job output';
      return;
    }
    this._id = announced.id;
    this._announced = announced.status;
    // The kernel's text lines carry the status (papermill, nbconvert): no second one here.
    this._badge =
      announced.view === 'text' ? null : statusBadge(announced.status);
    this.node.replaceChildren(
      ...(this._badge ? [this._badge, this._duration] : []),
      h('span', {
        class: 'jp-ContainerJob-chip-job',
        text: `containerjob job ${announced.id} (${announced.backend})`
      }),
      h('a', {
        class: 'jp-ContainerJob-link',
        text: 'Show job',
        title: `Open job ${announced.id}`,
        attrs: { href: '#', 'data-job-id': announced.id },
        on: {
          click: event => {
            event.preventDefault();
            this._actions.open(announced.id);
          }
        }
      }),
      this._restore
    );
    const known = this._model.get(announced.id);
    if (!known || (isFinal(announced.status) && !isFinal(known.status))) {
      // A saved notebook (the list may not hold this job), or an end the
      // kernel saw before the list's last poll: read the record once (a
      // deleted job keeps the announced status and offers nothing).
      this._actions
        .getJob(announced.id)
        .then(job => this._model.update(job))
        .catch(() => undefined);
    }
    this._update();
  }

  private _update(): void {
    if (!this._id) {
      return;
    }
    const job = this._model.get(this._id);
    if (this._badge) {
      setStatus(this._badge, job?.status ?? this._announced);
      showDuration(this._duration, this._model, this._id, text => text);
    }
    // Python decides whether there is anything to bring back (the record's `restorable`).
    this._restore.hidden = !job?.restorable;
  }

  private _id = '';
  private _announced: JobStatus = 'QUEUED';
  private _badge: HTMLElement | null = null;
  /** The job's time so far, ticking while it runs. */
  private readonly _duration = h('span', {
    attrs: { 'data-role': 'duration' }
  });
  private readonly _restore = h('a', {
    class: 'jp-ContainerJob-link jp-ContainerJob-restore',
    text: 'Restore output and variables',
    title:
      "Run %containerjob fetch in a new cell below: the job's log, then its variables in this kernel",
    attrs: { href: '#' },
    on: {
      click: event => {
        event.preventDefault();
        this._actions.restore(this._id, this.node);
      }
    }
  });
}

export function jobRendererFactory(
  model: JobListModel,
  actions: IChipActions
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [JOB_MIME],
    defaultRank: 50,
    createRenderer: () => new JobChip(model, actions)
  };
}
