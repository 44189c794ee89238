/**
 * The sidebar's schedules section: each schedule with the notebook it runs,
 * in plain words with its cron, a Paused badge, its next run (relative time
 * worked out at each render), pause/resume, run now, edit, its runs, and
 * delete.
 *
 * "Next run" is never left stale: while shown, the schedules are fetched
 * again every 30 s, when a run of one of them appears or changes status in
 * the job list, and just after the earliest next run is due (the scheduler
 * has moved it on by then); shown again, at once.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { PageConfig } from '@jupyterlab/coreutils';

import { IDisposable } from '@lumino/disposable';

import { Poll } from '@lumino/polling';

import { ContainerJobAPI, IJob, ISchedule, describeError } from '../api';

import { relativeTime, zonedTime } from '../cronpresets';

import { JobListModel } from '../model';

import { contentsPath } from '../contentspath';

import { disposeTimer, pacedPoll, tickIn } from '../polling';

import { h, setChildren } from './dom';

import { ScheduleRuns, scheduleOf } from './scheduleruns';

export interface ISchedulesViewOptions {
  api: ContainerJobAPI;
  /** The polled job list: a run of a schedule showing up there refreshes it. */
  model: JobListModel;
  /** Open a job's page. */
  openJob: (id: string) => void;
  /** Called with the job a "run now" started. */
  started: (job: IJob) => void;
  /** The edit form of a schedule (resolves once saved or cancelled). */
  edit: (schedule: ISchedule) => Promise<unknown>;
}

/** How often the relative times ("in 5 min") are worked out again. */
const TICK_MS = 20000;
/** Schedules change rarely: fetched this often while shown. */
const EVERY_MS = 30000;
/** How long after a next run is due the schedules are fetched again. */
const AFTER_DUE_MS = 1500;

export class SchedulesView implements IDisposable {
  readonly node: HTMLElement;

  constructor(private readonly _o: ISchedulesViewOptions) {
    this._list = h('ul', { class: 'jp-ContainerJob-list' });
    this._status = h('p', { class: 'jp-ContainerJob-empty' });
    this.node = h(
      'section',
      { class: 'jp-ContainerJob-section jp-ContainerJob-schedules' },
      [
        h('h3', { class: 'jp-ContainerJob-sectionTitle', text: 'Schedules' }),
        this._status,
        this._list
      ]
    );
    this._runs = new ScheduleRuns(_o.api, _o.openJob);
    _o.model.changed.connect(this._jobsChanged, this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Shown in a visible tab: fetched now, then followed; else neither. */
  set active(value: boolean) {
    if (value === this._active || this._disposed) {
      return;
    }
    this._active = value;
    tickIn(this._clock, value ? TICK_MS : Poll.NEVER);
    if (value) {
      void this.refresh();
    } else {
      tickIn(this._fetcher, Poll.NEVER);
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._active = false;
    disposeTimer(this._clock);
    disposeTimer(this._fetcher);
    this._o.model.changed.disconnect(this._jobsChanged, this);
  }

  /** Fetch and show the schedules; failures show in place of the list. */
  async refresh(): Promise<void> {
    try {
      this._schedules = await this._o.api.listSchedules();
      this._status.textContent = this._schedules.length
        ? ''
        : 'No schedules. Schedule a notebook from its toolbar (Container job ▾).';
      this._render();
      void this._runs.refresh();
    } catch (reason) {
      this._status.textContent = `Schedules unavailable: ${describeError(reason)}`;
      setChildren(this._list, []);
    }
    this._status.hidden = !this._status.textContent;
    this._refreshWhenDue();
  }

  private _render(): void {
    this._next.clear();
    setChildren(
      this._list,
      this._schedules.map(s => this._row(s))
    );
  }

  private _row(schedule: ISchedule): HTMLElement {
    const paused = schedule.state === 'PAUSED';
    const button = (
      label: string,
      action: () => Promise<unknown>,
      extra: Record<string, string> = {}
    ): HTMLElement =>
      h('button', {
        class: 'jp-ContainerJob-textButton',
        text: label,
        attrs: extra,
        on: { click: () => void this._do(schedule, label, action) }
      });
    const next = h('div', { class: 'jp-ContainerJob-schedule-next' });
    this._next.set(schedule.id, { node: next, schedule });
    this._showNext(next, schedule);
    const runs = this._runs.section(schedule.id);
    const toggle = h('button', {
      class: 'jp-ContainerJob-textButton',
      text: 'Runs',
      attrs: {
        'aria-expanded': String(this._runs.isOpen(schedule.id)),
        'data-action': 'runs'
      },
      on: {
        click: () => {
          const open = this._runs.toggle(schedule.id);
          toggle.setAttribute('aria-expanded', String(open));
        }
      }
    });
    return h(
      'li',
      {
        class: 'jp-ContainerJob-schedule',
        title: `${schedule.id}\n${schedule.notebook}${schedule.message ? `\n${schedule.message}` : ''}`,
        attrs: { 'data-schedule-id': schedule.id, 'data-state': schedule.state }
      },
      [
        h('div', { class: 'jp-ContainerJob-schedule-head' }, [
          h('span', {
            class: 'jp-ContainerJob-job-name',
            text: schedule.name || schedule.id
          }),
          paused
            ? h('span', {
                class: 'jp-ContainerJob-badge jp-ContainerJob-badge-paused',
                text: 'Paused'
              })
            : null
        ]),
        h('div', {
          class: 'jp-ContainerJob-schedule-notebook',
          // as the file browser shows it; the card's title has the full path
          text: `Runs ${contentsPath(schedule.notebook, PageConfig.getOption('serverRoot')) ?? schedule.notebook}`,
          attrs: { 'data-role': 'notebook' }
        }),
        h('div', {
          class: 'jp-ContainerJob-schedule-when',
          text: `${schedule.description || schedule.cron} (${schedule.timezone})`
        }),
        h('div', { class: 'jp-ContainerJob-job-meta' }, [
          h('code', { class: 'jp-ContainerJob-cron', text: schedule.cron }),
          ` · ${schedule.backend}`
        ]),
        next,
        h('div', { class: 'jp-ContainerJob-actions' }, [
          paused
            ? button('Resume', () => this._o.api.resumeSchedule(schedule.id))
            : button('Pause', () => this._o.api.pauseSchedule(schedule.id)),
          button('Run now', async () =>
            this._o.started(await this._o.api.runSchedule(schedule.id))
          ),
          button('Edit', () => this._o.edit(schedule)),
          toggle,
          button('Delete', () => this._delete(schedule))
        ]),
        runs
      ]
    );
  }

  /** "Next: Thu 3 Dec 03:00 (in 5 h)", in the schedule's time zone; or why none. */
  private _showNext(node: HTMLElement, schedule: ISchedule): void {
    const now = Date.now() / 1000;
    const last = schedule.last_run_at
      ? ` · last run ${relativeTime(schedule.last_run_at, now)}`
      : '';
    if (schedule.state === 'PAUSED') {
      node.textContent = `No runs until resumed${last}`;
    } else if (schedule.next_run_at) {
      const at = zonedTime(schedule.next_run_at, schedule.timezone);
      node.textContent = `Next: ${at} (${relativeTime(schedule.next_run_at, now)})${last}`;
      node.setAttribute('data-next-run', String(schedule.next_run_at));
    } else {
      node.textContent = `No next run${last}`;
    }
  }

  private async _tick(): Promise<void> {
    for (const { node, schedule } of this._next.values()) {
      this._showNext(node, schedule);
    }
  }

  /**
   * While shown, fetch again in 30 s, or sooner just after the earliest
   * active next run is due.
   */
  private _refreshWhenDue(): void {
    if (!this._active) {
      tickIn(this._fetcher, Poll.NEVER);
      return;
    }
    const times = this._schedules
      .filter(s => s.state === 'ACTIVE' && s.next_run_at)
      .map(s => s.next_run_at! * 1000);
    const wait = Math.min(...times) - Date.now() + AFTER_DUE_MS;
    // Overdue (no scheduler has moved it on yet): look again shortly, then
    // at the usual pace once it is long overdue (no scheduler running).
    const overdue = wait < -60000 ? EVERY_MS : 2000;
    tickIn(this._fetcher, wait > 0 ? Math.min(wait, EVERY_MS) : overdue);
  }

  /**
   * A run of a schedule appeared in the job list or changed status: its
   * schedule's last run and next run have changed, and so have its runs.
   */
  private _jobsChanged(): void {
    const seen = this._o.model.jobs
      .filter(job => scheduleOf(job))
      .map(job => `${job.id}:${job.status}`)
      .sort()
      .join(' ');
    if (seen === this._seenRuns) {
      return;
    }
    const first = this._seenRuns === null;
    this._seenRuns = seen;
    if (!first) {
      void this.refresh();
    }
  }

  private async _delete(schedule: ISchedule): Promise<void> {
    const answer = await showDialog({
      title: 'Delete schedule',
      body: `Delete ${schedule.name || schedule.id}? Its past runs stay in the job list.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await this._o.api.deleteSchedule(schedule.id);
    }
  }

  private async _do(
    schedule: ISchedule,
    label: string,
    action: () => Promise<unknown>
  ): Promise<void> {
    try {
      await action();
    } catch (reason) {
      await showErrorMessage(
        `${label}: ${schedule.name || schedule.id}`,
        describeError(reason)
      );
    }
    await this.refresh();
  }

  private _list: HTMLElement;
  private _status: HTMLElement;
  private _schedules: ISchedule[] = [];
  private _next = new Map<string, { node: HTMLElement; schedule: ISchedule }>();
  private _runs: ScheduleRuns;
  private _seenRuns: string | null = null;
  private _active = false;
  private _disposed = false;
  /** Works out the relative times again. */
  private _clock = pacedPoll('schedule times', () => this._tick());
  /** Fetches the schedules again (the pace set by `_refreshWhenDue`). */
  private _fetcher = pacedPoll('schedules', () => this.refresh());
}
