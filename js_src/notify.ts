/**
 * A JupyterLab notification when a job the UI knows of ends, with an action
 * that opens the job (its logs and output files).
 */
import { Notification } from '@jupyterlab/apputils';

import { IJob } from './api';

import { JobListModel } from './model';

import { formatDuration, jobTitle } from './widgets/format';

const KIND: Record<string, Notification.TypeOptions> = {
  SUCCEEDED: 'success',
  FAILED: 'error',
  LOST: 'error',
  CANCELLED: 'warning'
};

/** The notification's text, e.g. `Job cj-1 succeeded after 12s (local)`. */
export function finishedMessage(job: IJob): string {
  const duration = formatDuration(job.duration_s);
  const after = duration ? ` after ${duration}` : '';
  const why = job.status === 'FAILED' && job.message ? `: ${job.message}` : '';
  return `Job ${jobTitle(job)} ${job.status.toLowerCase()}${after} (${job.backend})${why}`;
}

export function notifyWhenFinished(
  model: JobListModel,
  enabled: () => boolean,
  open: (id: string) => void
): void {
  model.jobFinished.connect((_, job) => {
    if (!enabled()) {
      return;
    }
    const type = KIND[job.status] ?? 'info';
    Notification.emit(finishedMessage(job), type, {
      autoClose: type === 'success' ? 10000 : false,
      actions: [
        {
          // One name for one action: the cell's link and the sidebar say it too.
          label: 'Show job',
          caption: `Open ${job.id}: logs and output files`,
          callback: () => open(job.id)
        }
      ]
    });
  });
}
