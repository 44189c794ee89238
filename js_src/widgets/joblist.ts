/**
 * One list of jobs as rows: status, name, backend, duration, image; a row
 * opens the job, and an unfinished job's row has a stop button.
 */
import { stopIcon } from '@jupyterlab/ui-components';

import { IJob, isFinal } from '../api';

import { h } from './dom';

import { formatDuration, jobTitle, shortImage, statusClass } from './format';

export interface IRowActions {
  open: (id: string) => void;
  cancel: (id: string) => void;
}

/** A row for a job; `missing` rows are ids whose record is gone. */
export function jobRow(
  job: IJob,
  actions: IRowActions,
  note = ''
): HTMLElement {
  const meta = [
    job.backend,
    formatDuration(job.duration_s),
    shortImage(job.image)
  ]
    .filter(Boolean)
    .join(' · ');
  const row = h(
    'li',
    {
      class: 'jp-ContainerJob-job',
      title: `${job.id}\n${job.image}${job.message ? `\n${job.message}` : ''}`,
      attrs: {
        'data-job-id': job.id,
        'data-status': job.status,
        tabindex: '0',
        role: 'button'
      },
      on: {
        click: () => actions.open(job.id),
        keydown: event => {
          if ((event as KeyboardEvent).key === 'Enter') {
            actions.open(job.id);
          }
        }
      }
    },
    [
      h('span', { class: statusClass(job.status), text: job.status }),
      h('div', { class: 'jp-ContainerJob-job-main' }, [
        h('div', {
          class: 'jp-ContainerJob-job-name',
          text: note ? `${jobTitle(job)} · ${note}` : jobTitle(job)
        }),
        h('div', { class: 'jp-ContainerJob-job-meta', text: meta })
      ])
    ]
  );
  if (!isFinal(job.status)) {
    const stop = h('button', {
      class: 'jp-ContainerJob-iconButton',
      title: `Cancel ${job.id}`,
      attrs: { 'aria-label': `Cancel ${job.id}`, 'data-action': 'cancel' },
      on: {
        click: event => {
          event.stopPropagation();
          actions.cancel(job.id);
        }
      }
    });
    stopIcon.element({ container: stop, tag: 'span', elementSize: 'normal' });
    row.append(stop);
  }
  return row;
}

/** A row for a job id whose record the server no longer has. */
export function missingRow(id: string, note = ''): HTMLElement {
  return h(
    'li',
    {
      class: 'jp-ContainerJob-job jp-mod-missing',
      attrs: { 'data-job-id': id }
    },
    [
      h('span', { class: 'jp-ContainerJob-status', text: 'GONE' }),
      h('div', { class: 'jp-ContainerJob-job-main' }, [
        h('div', {
          class: 'jp-ContainerJob-job-name',
          text: note ? `${id} · ${note}` : id
        }),
        h('div', {
          class: 'jp-ContainerJob-job-meta',
          text: 'record deleted on the server'
        })
      ])
    ]
  );
}
