/**
 * A running job's elapsed time, ticking once a second in every place that
 * shows it (sidebar rows, the jobs table, the cell's chip, the job page).
 *
 * The time is the server's `duration_s` at the last poll plus the time
 * elapsed here since that answer arrived, so a browser whose clock differs
 * from the server's still counts right. One timer serves all the shown
 * durations and runs only while some are on screen in a visible tab.
 */
import { IJob, isFinal } from './api';

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
 * document, not hidden) are updated; removed ones are forgotten.
 */
class LiveClock {
  /** `update` refreshes the node and says whether it still ticks. */
  add(node: HTMLElement, update: () => boolean): void {
    this._nodes.set(node, update);
    this._start();
  }

  private _start(): void {
    if (this._timer !== null || document.hidden) {
      return;
    }
    this._timer = setInterval(() => this._tick(), TICK_MS);
    if (!this._listening) {
      this._listening = true;
      document.addEventListener('visibilitychange', () => {
        if (document.hidden) {
          this._stop();
        } else if (this._nodes.size) {
          this._tick();
          this._start();
        }
      });
    }
  }

  private _stop(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  private _tick(): void {
    for (const [node, update] of this._nodes) {
      if (!node.isConnected) {
        this._nodes.delete(node);
      } else if (node.getClientRects().length > 0 && !update()) {
        this._nodes.delete(node); // laid out (shown), and now final
      }
    }
    if (this._nodes.size === 0) {
      this._stop();
    }
  }

  private _nodes = new Map<HTMLElement, () => boolean>();
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _listening = false;
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
