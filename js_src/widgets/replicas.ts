/**
 * The replicas of a job with several (worker pools) on its page: each
 * replica's name, pool, state and how it ended, as the server last kept
 * them. Followed every few seconds while the job runs and the page shows;
 * read once more when the job ends.
 */
import { Poll } from '@lumino/polling';

import {
  ContainerJobAPI,
  IJob,
  IReplica,
  describeError,
  isFinal
} from '../api';

import { disposeTimer, isTicking, pacedPoll, tickIn } from '../polling';

import { h, setChildren } from './dom';

import { statusBadge } from './status';

/** How often a running job's replicas are read while its page shows. */
const EVERY_MS = 2000;

/** How many replicas the job's spec asks for (1 when it says nothing). */
export function replicaCount(job: IJob): number {
  const pools = (job.spec as { worker_pools?: { replica_count?: unknown }[] })
    .worker_pools;
  if (!Array.isArray(pools)) {
    return 1;
  }
  return pools.reduce(
    (sum, pool) =>
      sum + (typeof pool.replica_count === 'number' ? pool.replica_count : 1),
    0
  );
}

export class ReplicasView {
  constructor(
    private readonly _api: ContainerJobAPI,
    private readonly _jobId: string
  ) {
    this.node = h(
      'section',
      { class: 'jp-ContainerJob-section jp-ContainerJob-replicas' },
      [
        this._title,
        h('table', { class: 'jp-ContainerJob-replicaTable' }, [
          h('thead', {}, [
            h(
              'tr',
              {},
              ['Replica', 'Pool', 'State', 'Exit code', 'Note'].map(text =>
                h('th', { text, attrs: { scope: 'col' } })
              )
            )
          ]),
          this._rows
        ]),
        this._error
      ]
    );
    this.node.hidden = true;
  }

  readonly node: HTMLElement;

  /** The job as last seen: shows the section (several replicas) and reads. */
  set job(job: IJob) {
    const wasFinal = this._job !== null && isFinal(this._job.status);
    this._job = job;
    const count = replicaCount(job);
    this.node.hidden = count < 2;
    this._title.textContent = `Replicas (${count})`;
    if (count >= 2 && (!wasFinal || !this._read)) {
      void this._fetch();
    }
    this._schedule();
  }

  /** Whether the page shows: replicas are followed only then. */
  set active(value: boolean) {
    this._active = value;
    this._schedule();
    if (value) {
      void this._fetch();
    }
  }

  dispose(): void {
    this._active = false;
    disposeTimer(this._poll);
  }

  private _schedule(): void {
    const follow =
      this._active &&
      this._job !== null &&
      !isFinal(this._job.status) &&
      replicaCount(this._job) >= 2;
    if (follow !== isTicking(this._poll)) {
      tickIn(this._poll, follow ? EVERY_MS : Poll.NEVER);
    }
  }

  private async _fetch(): Promise<void> {
    if (!this._job || replicaCount(this._job) < 2) {
      return;
    }
    try {
      const replicas = await this._api.replicas(this._jobId);
      this._read = true;
      this._error.hidden = true;
      this._render(replicas);
    } catch (reason) {
      this._error.textContent = `Replicas unavailable: ${describeError(reason)}`;
      this._error.hidden = false;
    }
  }

  private _render(replicas: IReplica[]): void {
    setChildren(
      this._rows,
      replicas.map(r =>
        h('tr', { attrs: { 'data-replica': r.name, 'data-state': r.state } }, [
          h('td', { text: r.name }),
          h('td', {
            text: r.pool === 0 ? '0 (chief)' : `${r.pool} (workers)`
          }),
          h('td', {}, [statusBadge(r.state)]),
          h('td', { text: r.exit_code === null ? '' : String(r.exit_code) }),
          h('td', { text: r.message })
        ])
      )
    );
  }

  private _job: IJob | null = null;
  private _read = false;
  private _active = false;
  private _poll = pacedPoll('replicas', () => this._fetch());
  private readonly _title = h('h3', { class: 'jp-ContainerJob-sectionTitle' });
  private readonly _rows = h('tbody');
  private readonly _error = h('p', { class: 'jp-ContainerJob-replicaError' });
}
