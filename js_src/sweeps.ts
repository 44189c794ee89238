/**
 * A sweep's jobs together: every job of one `--sweep` carries the label
 * `containerjob-sweep` (its sweep's ID, core/sweep.py), so a list of jobs
 * shows them under one header row (the sweep, its size and how its jobs
 * ended) at the place of its first job, in the list's own order.
 */
import { IJob } from './api';

import { h } from './widgets/dom';

export const SWEEP_LABEL = 'containerjob-sweep';

/** The sweep the job is one run of (its ID), or an empty string. */
export function sweepOf(job: IJob): string {
  const labels = (job.spec as { labels?: Record<string, unknown> }).labels;
  const value = labels?.[SWEEP_LABEL];
  return typeof value === 'string' ? value : '';
}

/** A run of rows: one sweep's jobs (`sweep` set), or one job of no sweep. */
export interface IGroup<T> {
  sweep: string;
  rows: T[];
}

/**
 * The rows grouped: each sweep's rows at the place of its first, in the
 * order given; a job of no sweep stays where it was, alone.
 */
export function groupBySweep<T>(
  rows: readonly T[],
  jobOf: (row: T) => IJob
): IGroup<T>[] {
  const groups: IGroup<T>[] = [];
  const bySweep = new Map<string, IGroup<T>>();
  for (const row of rows) {
    const sweep = sweepOf(jobOf(row));
    const known = sweep ? bySweep.get(sweep) : undefined;
    if (known) {
      known.rows.push(row);
      continue;
    }
    const group = { sweep, rows: [row] };
    groups.push(group);
    if (sweep) {
      bySweep.set(sweep, group);
    }
  }
  return groups;
}

/** "sweep sw-1a2b3c4d · 4 jobs · 3 succeeded, 1 failed" */
export function sweepSummary(sweep: string, jobs: readonly IJob[]): string {
  const counts = new Map<string, number>();
  for (const job of jobs) {
    counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  }
  const states = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${n} ${status.toLowerCase()}`)
    .join(', ');
  return `sweep ${sweep} · ${jobs.length} job${jobs.length === 1 ? '' : 's'} · ${states}`;
}

/**
 * The table's body rows with each sweep's jobs under a header row spanning
 * `columns` cells; its jobs' rows are marked as members of the sweep.
 */
export function sweepRows<T>(
  rows: readonly T[],
  jobOf: (row: T) => IJob,
  render: (row: T) => HTMLElement,
  columns: number
): HTMLElement[] {
  return groupBySweep(rows, jobOf).flatMap(group => {
    const rendered = group.rows.map(render);
    if (!group.sweep) {
      return rendered;
    }
    for (const tr of rendered) {
      tr.classList.add('jp-ContainerJob-sweepMember');
      tr.setAttribute('data-sweep', group.sweep);
    }
    const header = h(
      'tr',
      {
        class: 'jp-ContainerJob-sweepHeader',
        attrs: { 'data-sweep': group.sweep }
      },
      [
        h('td', {
          text: sweepSummary(group.sweep, group.rows.map(jobOf)),
          attrs: { colspan: String(columns) }
        })
      ]
    );
    return [header, ...rendered];
  });
}
