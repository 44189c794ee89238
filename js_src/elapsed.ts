/**
 * A running job's elapsed time, ticking once a second in every place that
 * shows it (sidebar rows, the jobs table, the cell's chip, the job page).
 *
 * The time is the server's `duration_s` at the last poll plus the time
 * elapsed here since that answer arrived, so a browser whose clock differs
 * from the server's still counts right. One poll serves all the shown
 * durations and runs only while some are on screen in a visible tab.
 */
import { Poll } from '@lumino/polling';

import { IJob, isFinal } from './api';

import { isTicking, pacedPoll, tickIn } from './polling';

import { formatDuration } from './widgets/format';

/** What a live duration reads: a job's record and when it arrived (ms). */
export interface IDurationSource {
  get(id: string): IJob | undefined;
  /** `performance.now()` when the record of `id` was received, or undefined. */
  receivedAt(id: string): number | undefined;
}

/**
 * The job's duration in seconds now: the server's figure, plus the local
 * time since it was received while the job is unfinished and started.
 */
export function liveSeconds(
  job: IJob,
  receivedAt: number | undefined,
  now: number = performance.now()
): number | null {
  if (job.duration_s === null) {
    return null;
  }
  if (isFinal(job.status) || receivedAt === undefined) {
    return job.duration_s;
  }
  return job.duration_s + Math.max(0, now - receivedAt) / 1000;
}

const TICK_MS = 1000;

/**
 * The elements showing a live duration: each second the shown ones (in the
 * document, not hidden) are updated; removed ones are forgotten. The poll
 * stands by in a hidden tab and stops when no node is left.
 */
class LiveClock {
  /** `update` refreshes the node and says whether it still ticks. */
  add(node: HTMLElement, update: () => boolean): void {
    this._nodes.set(node, update);
    if (!isTicking(this._poll)) {
      tickIn(this._poll, TICK_MS);
    }
  }

  private async _tick(): Promise<void> {
    for (const [node, update] of this._nodes) {
      if (!node.isConnected) {
        this._nodes.delete(node);
      } else if (node.getClientRects().length > 0 && !update()) {
        this._nodes.delete(node); // laid out (shown), and now final
      }
    }
    if (this._nodes.size === 0) {
      tickIn(this._poll, Poll.NEVER);
    }
  }

  private _nodes = new Map<HTMLElement, () => boolean>();
  private _poll = pacedPoll('durations', () => this._tick());
}

const clock = new LiveClock();

/**
 * Keep `node`'s text the live duration of job `id` (empty before it starts);
 * `format` dresses the figure (e.g. `"· 12s"`). An unfinished job's node
 * ticks until it leaves the document.
 */
export function showDuration(
  node: HTMLElement,
  source: IDurationSource,
  id: string,
  format: (text: string) => string = text => text
): HTMLElement {
  const update = (): boolean => {
    const job = source.get(id);
    const seconds = job ? liveSeconds(job, source.receivedAt(id)) : null;
    const text = formatDuration(seconds);
    node.textContent = text ? format(text) : '';
    return job !== undefined && !isFinal(job.status);
  };
  node.classList.add('jp-ContainerJob-duration');
  if (update()) {
    clock.add(node, update);
  }
  return node;
}
