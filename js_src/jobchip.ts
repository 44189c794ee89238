/**
 * Renders the magic's job output ({@link JOB_MIME}) in a notebook: the job's
 * live status, a link that opens it and, once the job has ended, one that
 * restores the cell's output and variables into the kernel (for a notebook
 * reopened after its kernel went away); text/plain remains for nbconvert.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { Widget } from '@lumino/widgets';

import { IJob, isFinal } from './api';

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

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const [announced] = announcements([{ data: model.data }]);
    if (!announced) {
      this.node.textContent = 'containerjob: malformed job output';
      return;
    }
    this._id = announced.id;
    this._announced = announced.status;
    this._badge = statusBadge(announced.status);
    this.node.replaceChildren(
      this._badge,
      this._duration,
      h('span', {
        text: ` containerjob job ${announced.id} (${announced.backend}) `
      }),
      h('a', {
        class: 'jp-ContainerJob-link',
        text: 'Show job',
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
    if (!this._model.get(announced.id)) {
      // A saved notebook: the list may not hold this job; read it once (a
      // deleted job keeps the announced status and offers nothing).
      this._actions
        .getJob(announced.id)
        .then(job => this._model.update(job))
        .catch(() => undefined);
    }
    this._update();
  }

  private _update(): void {
    if (!this._badge || !this._id) {
      return;
    }
    const status = this._model.get(this._id)?.status ?? this._announced;
    setStatus(this._badge, status);
    showDuration(this._duration, this._model, this._id, text => ` ${text}`);
    this._restore.hidden = !isFinal(status) || status === 'LOST';
  }

  private _id = '';
  private _announced: ReturnType<typeof announcements>[number]['status'] =
    'QUEUED';
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
