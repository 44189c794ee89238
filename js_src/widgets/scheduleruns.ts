/**
 * A schedule's runs, under its row in the sidebar: the jobs labelled with
 * it (GET jobs?schedule=ID), newest first, each with its status and time
 * and opening its job page.
 */
import { ContainerJobAPI, IJob, describeError } from '../api';

import { relativeTime, zonedTime } from '../cronpresets';

import { h, setChildren } from './dom';

import { formatDuration, statusClass } from './format';

/** The label that marks a run of a schedule (scheduling.LABEL). */
export const SCHEDULE_LABEL = 'containerjob-schedule';

/** How many runs a schedule shows. */
const SHOWN = 10;

/** The schedule a job is a run of, or `null`. */
export function scheduleOf(job: IJob): string | null {
  const labels = (job.spec as { labels?: Record<string, string> }).labels;
  return labels?.[SCHEDULE_LABEL] ?? null;
}

export class ScheduleRuns {
  constructor(
    private readonly _api: ContainerJobAPI,
    private readonly _openJob: (id: string) => void
  ) {}

  isOpen(id: string): boolean {
    return this._open.has(id);
  }

  /** The list of schedule `id`'s runs, shown when open (a new node each render). */
  section(id: string): HTMLElement {
    const node = h('ul', {
      class: 'jp-ContainerJob-scheduleRuns',
      attrs: { 'data-schedule-id': id, 'aria-label': 'Runs' }
    });
    this._sections.set(id, node);
    this._show(id);
    return node;
  }

  /** Open or close schedule `id`'s runs (fetched on opening); whether open now. */
  toggle(id: string): boolean {
    if (this._open.has(id)) {
      this._open.delete(id);
      this._show(id);
      return false;
    }
    this._open.add(id);
    this._show(id);
    void this._fetch(id);
    return true;
  }

  /** Fetch the runs of every open schedule again. */
  async refresh(): Promise<void> {
    await Promise.all([...this._open].map(id => this._fetch(id)));
  }

  private async _fetch(id: string): Promise<void> {
    try {
      const { jobs } = await this._api.listJobs({ schedule: id, limit: SHOWN });
      this._runs.set(id, jobs);
    } catch (reason) {
      this._runs.set(id, `Runs unavailable: ${describeError(reason)}`);
    }
    this._show(id);
  }

  private _show(id: string): void {
    const node = this._sections.get(id);
    if (!node) {
      return;
    }
    node.hidden = !this._open.has(id);
    const runs = this._runs.get(id);
    if (runs === undefined) {
      setChildren(node, [
        h('li', { class: 'jp-ContainerJob-empty', text: 'Loading…' })
      ]);
    } else if (typeof runs === 'string' || !runs.length) {
      setChildren(node, [
        h('li', {
          class: 'jp-ContainerJob-empty',
          text: typeof runs === 'string' ? runs : 'No runs yet.'
        })
      ]);
    } else {
      setChildren(
        node,
        runs.map(job => this._row(job))
      );
    }
  }

  private _row(job: IJob): HTMLElement {
    const now = Date.now() / 1000;
    const duration = formatDuration(job.duration_s);
    return h('li', {}, [
      h(
        'button',
        {
          class: 'jp-ContainerJob-scheduleRun',
          title: `Open ${job.id}`,
          attrs: { 'data-job-id': job.id, 'data-status': job.status },
          on: { click: () => this._openJob(job.id) }
        },
        [
          h('span', { class: statusClass(job.status), text: job.status }),
          h('span', {
            class: 'jp-ContainerJob-scheduleRun-time',
            text: `${zonedTime(job.created_at)} (${relativeTime(job.created_at, now)})`
          }),
          duration
            ? h('span', {
                class: 'jp-ContainerJob-scheduleRun-duration',
                text: duration
              })
            : null
        ]
      )
    ]);
  }

  private _open = new Set<string>();
  private _sections = new Map<string, HTMLElement>();
  private _runs = new Map<string, IJob[] | string>();
}
