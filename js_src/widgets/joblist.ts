/**
 * One list of jobs as rows: a readable name and id on top (up to two lines,
 * as the sidebar is narrow), then status (with activity), backend, live
 * duration (or "not started") and image; a row opens the job, and an
 * unfinished job's row has a labelled "Cancel job" button on a line of its
 * own (confirmed once the job has run a few seconds: confirmcancel.ts).
 * What does not fit ends in an ellipsis, with the full text in the row's
 * title (the jobs table shows it whole).
 */
import { IJob, isFinal } from '../api';

import { CANCEL_LABEL, confirmCancel } from '../confirmcancel';

import { IDurationSource, liveSeconds, showDuration } from '../elapsed';

import { ICellPlace, readableName, scheduleOf } from '../jobnames';

import { h } from './dom';

import { shortImage } from './format';

import { statusBadge } from './status';

export interface IRowActions {
  open: (id: string) => void;
  cancel: (id: string) => void;
}

/** What rows read besides the job: live durations, the cell of a job. */
export interface IRowContext {
  actions: IRowActions;
  durations: IDurationSource;
  placeOf: (id: string) => ICellPlace | null;
}

/** A row for a job. */
export function jobRow(job: IJob, context: IRowContext): HTMLElement {
  const { actions } = context;
  const name = readableName(job, context.placeOf(job.id));
  const schedule = scheduleOf(job);
  const meta = h('div', { class: 'jp-ContainerJob-job-meta' }, [
    statusBadge(job.status),
    job.backend,
    showDuration(h('span'), context.durations, job.id, text => ` · ${text}`),
    // failed before its container started (no GPU, no image): say so, not a blank
    isFinal(job.status) && !job.started_at ? ' · not started' : '',
    ` · ${shortImage(job.image)}`,
    schedule &&
      h('span', {
        class: 'jp-ContainerJob-tag',
        text: 'scheduled',
        title: `Started by schedule ${schedule}`
      })
  ]);
  const main = h('div', { class: 'jp-ContainerJob-job-main' }, [
    h('div', { class: 'jp-ContainerJob-job-name' }, [
      h('span', { text: name }),
      h('span', { class: 'jp-ContainerJob-job-id', text: ` ${job.id}` })
    ]),
    meta
  ]);
  const row = h(
    'li',
    {
      class: 'jp-ContainerJob-job',
      title: [name, job.id, job.image, job.origin, job.message]
        .filter(Boolean)
        .join('\n'),
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
    [main]
  );
  if (!isFinal(job.status)) {
    const cancel = h('button', {
      class: 'jp-ContainerJob-textButton jp-ContainerJob-cancel',
      text: CANCEL_LABEL,
      title: `Cancel ${job.id}: stop it where it runs`,
      attrs: { 'aria-label': `Cancel job ${job.id}`, 'data-action': 'cancel' },
      on: {
        click: event => {
          event.stopPropagation();
          void cancelAsked(job.id, name, context);
        },
        keydown: event => event.stopPropagation() // Enter on the button is not Enter on the row
      }
    });
    main.append(h('div', { class: 'jp-ContainerJob-job-actions' }, [cancel]));
  }
  return row;
}

/** Cancel after the confirmation a job that has run a while needs (its latest record). */
async function cancelAsked(
  id: string,
  name: string,
  context: IRowContext
): Promise<void> {
  const job = context.durations.get(id);
  const seconds = job
    ? liveSeconds(job, context.durations.receivedAt(id))
    : null;
  if (!job || (await confirmCancel(job, seconds, name))) {
    context.actions.cancel(id);
  }
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
