/**
 * One confirmation for every Cancel (the sidebar's rows, the job page): a
 * job that has run for more than a few seconds has work to lose, so its
 * cancel is asked about, with the same words everywhere ("Cancel job"); one
 * that just started, or has not started, is cancelled at once.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

import { IJob, isFinal } from './api';

import { formatDuration } from './widgets/format';

/**
 * A job younger than this is cancelled at once: a cancel that soon after
 * the launch takes back a launch made by mistake, and the few seconds of
 * work it loses cost less than a dialog. Past it, the job may hold minutes
 * of work the cancel throws away, so the user is asked first.
 */
export const CONFIRM_AFTER_S = 5;

/** The label of the button that cancels, in the row and in the dialog. */
export const CANCEL_LABEL = 'Cancel job';

/** Whether cancelling `job`, which has run `seconds` (null: not started), needs a yes. */
export function needsConfirmation(job: IJob, seconds: number | null): boolean {
  return !isFinal(job.status) && seconds !== null && seconds > CONFIRM_AFTER_S;
}

/**
 * Whether to go on with cancelling `job` (shown as `name`): true at once
 * when no confirmation is needed, else what the user answered.
 */
export async function confirmCancel(
  job: IJob,
  seconds: number | null,
  name: string
): Promise<boolean> {
  if (!needsConfirmation(job, seconds)) {
    return true;
  }
  const answer = await showDialog({
    title: `${CANCEL_LABEL}?`,
    body: `${name} (${job.id}) has run for ${formatDuration(seconds)}. Cancelling stops it where it runs; what it has not finished is lost.`,
    buttons: [
      Dialog.cancelButton({ label: 'Keep running' }),
      Dialog.warnButton({ label: CANCEL_LABEL })
    ],
    defaultButton: 0 // Enter keeps the job: cancelling loses its work
  });
  return answer.button.accept;
}
