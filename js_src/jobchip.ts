/**
 * Renders the magic's job output ({@link JOB_MIME}) in a notebook: the job's
 * live status and a link that opens it; text/plain remains for nbconvert.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { Widget } from '@lumino/widgets';

import { announcements, JOB_MIME } from './cellmagic';

import { JobListModel } from './model';

import { h } from './widgets/dom';

import { statusClass } from './widgets/format';

class JobChip extends Widget implements IRenderMime.IRenderer {
  constructor(
    private readonly _model: JobListModel,
    private readonly _open: (id: string) => void
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
    this._badge = h('span', {
      class: statusClass(announced.status),
      text: announced.status
    });
    this.node.replaceChildren(
      this._badge,
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
            this._open(announced.id);
          }
        }
      })
    );
    this._update();
  }

  private _update(): void {
    if (!this._badge || !this._id) {
      return;
    }
    const status = this._model.get(this._id)?.status ?? this._announced;
    this._badge.className = statusClass(status);
    this._badge.textContent = status;
  }

  private _id = '';
  private _announced: ReturnType<typeof announcements>[number]['status'] =
    'QUEUED';
  private _badge: HTMLElement | null = null;
}

export function jobRendererFactory(
  model: JobListModel,
  open: (id: string) => void
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [JOB_MIME],
    defaultRank: 50,
    createRenderer: () => new JobChip(model, open)
  };
}
