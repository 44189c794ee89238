import { IDisposable } from '@lumino/disposable';

import { Poll } from '@lumino/polling';

import { ISignal, Signal } from '@lumino/signaling';

import {
  ContainerJobAPI,
  IJob,
  IJobQuery,
  describeError,
  isFinal,
  isNotFound
} from './api';

import { disposeTimer, pacedPoll, tickIn } from './polling';

/**
 * How often to poll: `min` while something changes or runs, growing by
 * `factor` per quiet round (or failure) up to `max`.
 */
export interface IBackoff {
  min: number;
  max: number;
  factor: number;
}

export const DEFAULT_BACKOFF: IBackoff = { min: 1000, max: 30000, factor: 2 };

/**
 * The next delay: back to `min` when something moved, else one step longer.
 */
export function nextDelay(
  current: number,
  moved: boolean,
  b: IBackoff
): number {
  return moved ? b.min : Math.min(b.max, Math.max(b.min, current * b.factor));
}

/**
 * The job list behind the sidebar.
 *
 * While `visible` it polls `GET jobs` (plus `GET jobs/{id}` for jobs the UI
 * knows of that are not on that page) with backoff: at `min` while jobs run
 * or change, slower while nothing moves or the server fails. Hidden, it stops
 * polling the list; only jobs this UI launched and that are not final yet are
 * still followed by id, so their end can be notified; with none, it sends
 * nothing at all. In a hidden browser tab the poll stands by.
 */
export class JobListModel implements IDisposable {
  constructor(
    readonly api: ContainerJobAPI,
    backoff: Partial<IBackoff> = {},
    /** Jobs asked for per list page. */
    readonly pageSize = 50
  ) {
    this._backoff = { ...DEFAULT_BACKOFF, ...backoff };
    this._delay = this._backoff.min;
  }

  /** Emitted after each poll that changed the jobs or the error. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted once when a job seen unfinished reaches a final status. */
  get jobFinished(): ISignal<this, IJob> {
    return this._jobFinished;
  }

  /** The latest list page, newest first, then known jobs not on it. */
  get jobs(): IJob[] {
    const listed = new Set(this._listed);
    const { backend, status } = this._query;
    const extra = [...this._tracked]
      .filter(id => !listed.has(id) && this._records.has(id))
      .map(id => this._records.get(id)!)
      .filter(
        job =>
          (!backend || job.backend === backend) &&
          (!status || job.status === status)
      )
      .sort((a, b) => b.created_at - a.created_at);
    return [...this._listed.map(id => this._records.get(id)!), ...extra];
  }

  /** Why the last poll failed, or `null`. */
  get error(): string | null {
    return this._error;
  }

  /** The delay before the next poll (ms); exposed for the status line. */
  get delay(): number {
    return this._delay;
  }

  get query(): IJobQuery {
    return this._query;
  }

  /** Filter of the list page (backend, status); refreshes at once. */
  set query(value: IJobQuery) {
    this._query = value;
    void this.refresh();
  }

  get(id: string): IJob | undefined {
    return this._records.get(id);
  }

  /**
   * When the record of `id` arrived (`performance.now()`): a running job's
   * duration counts on from there (elapsed.ts).
   */
  receivedAt(id: string): number | undefined {
    return this._receivedAt.get(id);
  }

  /** Whether a known job's record is gone from the server (404). */
  isMissing(id: string): boolean {
    return this._missing.has(id);
  }

  get visible(): boolean {
    return this._visible;
  }

  /** Start polling when shown (with an immediate refresh), stop when hidden. */
  set visible(value: boolean) {
    if (value === this._visible) {
      return;
    }
    this._visible = value;
    if (value) {
      void this.refresh();
    } else {
      this._schedule();
    }
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Jobs the UI knows of (launched from cells of open notebooks): fetched by
   * id when not on the list page.
   */
  track(ids: Iterable<string>): void {
    let added = false;
    for (const id of ids) {
      if (!this._tracked.has(id)) {
        this._tracked.add(id);
        added = true;
      }
    }
    if (added && this._visible) {
      void this.refresh();
    }
  }

  /**
   * A job this UI just launched: tracked, and followed even while hidden
   * until it is final, so that its end is announced.
   */
  watch(job: IJob | string): void {
    const id = typeof job === 'string' ? job : job.id;
    this._tracked.add(id);
    if (typeof job !== 'string') {
      this._store(job);
    }
    if (typeof job === 'string' || !isFinal(job.status)) {
      // Announced unfinished: its first record may already be final (a short
      // job), and that end is still news.
      this._announcedOpen.add(id);
    }
    if (!this._records.has(id) || !isFinal(this._records.get(id)!.status)) {
      this._watched.add(id);
    }
    void this.refresh();
  }

  /** Store a record fetched elsewhere (detail view, cancel) and announce it. */
  update(job: IJob): void {
    if (this._store(job)) {
      this._changed.emit();
    }
  }

  /** Poll now and restart the backoff from `min`. */
  refresh(): Promise<void> {
    this._delay = this._backoff.min;
    return this._run();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    disposeTimer(this._ticker);
    Signal.clearData(this);
  }

  /** One round: the list page when visible, then known jobs by id. */
  private async _poll(): Promise<void> {
    tickIn(this._ticker, Poll.NEVER);
    if (this._disposed) {
      return;
    }
    let moved = false;
    let error: string | null = null;
    try {
      if (this._visible) {
        const page = await this.api.listJobs({
          limit: this.pageSize,
          ...this._query
        });
        const ids = page.jobs.map(job => job.id);
        moved = ids.join() !== this._listed.join();
        this._listed = ids;
        for (const job of page.jobs) {
          moved = this._store(job) || moved;
        }
      }
      for (const id of this._byIdNeeded()) {
        try {
          moved = this._store(await this.api.getJob(id)) || moved;
        } catch (reason) {
          if (!isNotFound(reason)) {
            throw reason;
          }
          this._missing.add(id);
          this._watched.delete(id);
          moved = true;
        }
      }
    } catch (reason) {
      error = describeError(reason);
    }
    // Visible, running jobs keep the pace (their durations tick); hidden,
    // only a change does, so long remote jobs are not asked about each second.
    const running =
      this._visible && this.jobs.some(job => !isFinal(job.status));
    if (error !== this._error) {
      this._error = error;
      moved = true;
    }
    this._delay = nextDelay(
      this._delay,
      error === null && (moved || running),
      this._backoff
    );
    if (moved) {
      this._changed.emit();
    }
    this._schedule();
  }

  /** Ids to fetch one by one this round. */
  private _byIdNeeded(): string[] {
    const listed = new Set(this._listed);
    const candidates = this._visible ? this._tracked : this._watched;
    return [...candidates].filter(id => {
      if (this._missing.has(id) || (this._visible && listed.has(id))) {
        return false;
      }
      const known = this._records.get(id);
      return known === undefined || !isFinal(known.status);
    });
  }

  /** Keep a record; returns whether anything changed; emits final transitions. */
  private _store(job: IJob): boolean {
    const previous = this._records.get(job.id);
    this._records.set(job.id, job);
    this._receivedAt.set(job.id, performance.now());
    this._missing.delete(job.id);
    if (isFinal(job.status)) {
      this._watched.delete(job.id);
      const wasOpen =
        previous !== undefined
          ? !isFinal(previous.status)
          : this._announcedOpen.has(job.id);
      if (wasOpen && !this._announced.has(job.id)) {
        this._announced.add(job.id);
        this._jobFinished.emit(job);
      }
    }
    return (
      previous === undefined ||
      previous.status !== job.status ||
      previous.finished_at !== job.finished_at ||
      previous.started_at !== job.started_at ||
      previous.message !== job.message
    );
  }

  /** The next round in `delay`; none while nothing is to be followed. */
  private _schedule(): void {
    const idle = !this._visible && this._watched.size === 0;
    tickIn(this._ticker, idle ? Poll.NEVER : this._delay);
  }

  /** One round at a time; a request during a round runs one more after it. */
  private async _run(): Promise<void> {
    if (this._inFlight) {
      this._again = true;
      return this._inFlight;
    }
    this._inFlight = (async () => {
      do {
        this._again = false;
        await this._poll();
      } while (this._again && !this._disposed);
    })();
    try {
      await this._inFlight;
    } finally {
      this._inFlight = null;
    }
  }

  private _backoff: IBackoff;
  private _delay: number;
  private _visible = false;
  private _disposed = false;
  private _ticker = pacedPoll('jobs', () => this._run());
  private _inFlight: Promise<void> | null = null;
  private _again = false;
  private _query: IJobQuery = {};
  private _error: string | null = null;
  private _listed: string[] = [];
  private _records = new Map<string, IJob>();
  private _receivedAt = new Map<string, number>();
  private _tracked = new Set<string>();
  private _watched = new Set<string>();
  private _missing = new Set<string>();
  private _announced = new Set<string>();
  private _announcedOpen = new Set<string>();
  private _changed = new Signal<this, void>(this);
  private _jobFinished = new Signal<this, IJob>(this);
}
