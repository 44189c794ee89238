/**
 * A job's status badge: the status word, what it means while the job waits
 * (in its title), and an activity pulse while the job is under way, so a
 * two-minute job never looks frozen.
 */
import { JobStatus, isFinal } from '../api';

import { h } from './dom';

import { statusClass } from './format';

/** What a status means, for the badge's tooltip. */
export const STATUS_HINTS: Record<JobStatus, string> = {
  QUEUED: 'Queued: waiting for the engine or machine to take the job',
  PENDING:
    'Pending: waiting for the machine (the image being pulled, the machine provisioned)',
  RUNNING: 'Running',
  CANCELLING: 'Cancelling: waiting for the job to stop',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  LOST: 'Lost: its container or remote job disappeared'
};

/** A badge for `status`; update it with {@link setStatus}. */
export function statusBadge(status: JobStatus): HTMLElement {
  const badge = h('span');
  setStatus(badge, status);
  return badge;
}

/** Show `status` on a badge: word, class, hint and, while active, a pulse. */
export function setStatus(badge: HTMLElement, status: JobStatus): void {
  const active = !isFinal(status);
  badge.className = statusClass(status);
  badge.classList.toggle('jp-mod-active', active);
  badge.title = STATUS_HINTS[status] ?? status;
  badge.dataset.status = status;
  badge.replaceChildren(
    ...(active
      ? [
          h('span', {
            class: 'jp-ContainerJob-activity',
            attrs: { 'aria-hidden': 'true' }
          })
        ]
      : []),
    status
  );
}
