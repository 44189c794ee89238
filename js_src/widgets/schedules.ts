/**
 * The sidebar's schedules section: each schedule with its cron, state and
 * next run, and pause/resume, run now and delete.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { ContainerJobAPI, IJob, ISchedule, describeError } from '../api';

import { h, setChildren } from './dom';

import { formatTime } from './format';

export class SchedulesView {
  readonly node: HTMLElement;

  constructor(
    private readonly _api: ContainerJobAPI,
    /** Called with the job a "run now" started. */
    private readonly _started: (job: IJob) => void
  ) {
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
  }

  /** Fetch and show the schedules; failures show in place of the list. */
  async refresh(): Promise<void> {
    try {
      const schedules = await this._api.listSchedules();
      this._status.textContent = schedules.length
        ? ''
        : 'No schedules. Schedule a notebook from its toolbar (Container job ▾).';
      setChildren(
        this._list,
        schedules.map(s => this._row(s))
      );
    } catch (reason) {
      this._status.textContent = `Schedules unavailable: ${describeError(reason)}`;
      setChildren(this._list, []);
    }
    this._status.hidden = !this._status.textContent;
  }

  private _row(schedule: ISchedule): HTMLElement {
    const paused = schedule.state === 'PAUSED';
    const next = paused
      ? 'paused'
      : schedule.next_run_at
        ? `next ${formatTime(schedule.next_run_at)}`
        : '';
    const button = (
      label: string,
      action: () => Promise<unknown>
    ): HTMLElement =>
      h('button', {
        class: 'jp-ContainerJob-textButton',
        text: label,
        on: { click: () => void this._do(schedule, label, action) }
      });
    return h(
      'li',
      {
        class: 'jp-ContainerJob-schedule',
        title: `${schedule.id}\n${schedule.notebook}${schedule.message ? `\n${schedule.message}` : ''}`,
        attrs: { 'data-schedule-id': schedule.id, 'data-state': schedule.state }
      },
      [
        h('div', { class: 'jp-ContainerJob-job-main' }, [
          h('div', {
            class: 'jp-ContainerJob-job-name',
            text: schedule.name || schedule.id
          }),
          h('div', {
            class: 'jp-ContainerJob-job-meta',
            text: [
              `${schedule.cron} (${schedule.timezone})`,
              schedule.backend,
              next
            ]
              .filter(Boolean)
              .join(' · ')
          })
        ]),
        h('div', { class: 'jp-ContainerJob-actions' }, [
          paused
            ? button('Resume', () => this._api.resumeSchedule(schedule.id))
            : button('Pause', () => this._api.pauseSchedule(schedule.id)),
          button('Run now', async () =>
            this._started(await this._api.runSchedule(schedule.id))
          ),
          button('Delete', () => this._delete(schedule))
        ])
      ]
    );
  }

  private async _delete(schedule: ISchedule): Promise<void> {
    const answer = await showDialog({
      title: 'Delete schedule',
      body: `Delete ${schedule.name || schedule.id}? Its past runs stay in the job list.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await this._api.deleteSchedule(schedule.id);
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
}
