/**
 * What the job page asks before an action that cannot be taken back: a
 * cancel of a job that has run a while, and a re-run of a cell job (it runs
 * the cell again in the notebook's kernel, so the variables it brings back
 * change, and it writes a cell's output).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

import { IJob, isFinal } from './api';

import { formatDuration } from './widgets/format';

/**
 * A job younger than this is cancelled at once: a cancel that soon after
 * the launch takes back a launch made by mistake, and the few seconds of
 * work it loses cost less than a dialog. Past it, the job may hold minutes
 * of work the cancel throws away, so the page asks first.
 */
export const CONFIRM_CANCEL_AFTER_S = 5;

/** Seconds `job` has run (since it started; queued time counts too), at `now` (epoch ms). */
export function runningFor(job: IJob, now = Date.now()): number {
  return Math.max(0, now / 1000 - (job.started_at ?? job.created_at));
}

/** Whether to cancel `job`: at once when young, else as the user answers. */
export async function confirmCancel(job: IJob): Promise<boolean> {
  const seconds = runningFor(job);
  if (isFinal(job.status) || seconds < CONFIRM_CANCEL_AFTER_S) {
    return true;
  }
  const result = await showDialog({
    title: `Cancel job ${job.id}?`,
    body: `It has been ${job.started_at === null ? 'waiting' : 'running'} for ${formatDuration(seconds)}. Cancelling stops its container now: the work it has not saved is lost. Its logs and the files it wrote so far are kept.`,
    buttons: [
      Dialog.cancelButton({ label: 'Keep running' }),
      Dialog.warnButton({ label: 'Cancel job' })
    ],
    defaultButton: 0
  });
  return result.button.accept;
}

/** Where a cell job's re-run goes: a copy of the cell below it, or the cell itself. */
export type RerunPlace = 'below' | 'replace';

/**
 * Ask how to re-run cell job `id` (cell `number` of `notebook`); `null`:
 * not at all. Running it in a new cell below is the default, so that the
 * cell's output is never replaced without the user saying so.
 */
export async function askRerunPlace(
  id: string,
  notebook: string,
  number: number
): Promise<RerunPlace | null> {
  const result = await showDialog({
    title: `Re-run job ${id}?`,
    body: `This runs the code of cell ${number} of ${notebook} again in the notebook's kernel, as a new container job. The variables it brings back are assigned again in the kernel. "Run in a new cell below" copies the cell below it and runs the copy, so this cell's output stays; "Replace this cell's output" runs the cell itself.`,
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: "Replace this cell's output" }),
      Dialog.okButton({ label: 'Run in a new cell below' })
    ],
    defaultButton: 2
  });
  if (!result.button.accept) {
    return null;
  }
  return result.button.displayType === 'warn' ? 'replace' : 'below';
}
