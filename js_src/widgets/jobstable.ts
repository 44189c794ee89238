/**
 * "Container jobs" in the main area: every job in a full-width table (name,
 * status, backend, image, started, duration) where full text lives; sort by
 * a header, filter by status and backend, search name, id, image and origin,
 * delete a row or the selected rows (confirmed; unfinished jobs are named
 * and cancelled first). It polls only while shown.
 */
import { Dialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';

import { deleteIcon, refreshIcon } from '@jupyterlab/ui-components';

import { Message } from '@lumino/messaging';

import { Widget } from '@lumino/widgets';

import {
  ContainerJobAPI,
  FINAL_STATUSES,
  IJob,
  JobStatus,
  describeError,
  isFinal
} from '../api';

import { backendLabel } from '../backends';

import { liveSeconds, showDuration } from '../elapsed';

import { ICellPlace, readableName, scheduleOf, searchText } from '../jobnames';

import { JobListModel } from '../model';

import { sweepRows } from '../sweeps';

import { h, setChildren } from './dom';

import { formatTime } from './format';

import { containerJobIcon } from './icons';

import { STATUS_HINTS, statusBadge } from './status';

/** Jobs the table asks for per poll. */
const TABLE_PAGE = 500;

export type SortKey =
  'name' | 'status' | 'backend' | 'image' | 'started' | 'duration';

const COLUMNS: [SortKey, string][] = [
  ['name', 'Name'],
  ['status', 'Status'],
  ['backend', 'Backend'],
  ['image', 'Image'],
  ['started', 'Started'],
  ['duration', 'Duration']
];

export interface IJobsTableOptions {
  api: ContainerJobAPI;
  open: (id: string) => void;
  placeOf: (id: string) => ICellPlace | null;
  /** After jobs were deleted (the sidebar refreshes). */
  deleted: () => void;
}

/** A job with what the table sorts and searches by. */
interface IRow {
  job: IJob;
  name: string;
}

export class JobsTable extends Widget {
  constructor(private readonly _o: IJobsTableOptions) {
    super();
    this.addClass('jp-ContainerJob-table');
    this._model = new JobListModel(_o.api, {}, TABLE_PAGE);
    this._model.changed.connect(this._render, this);

    this._search = h('input', {
      class: 'jp-mod-styled jp-ContainerJob-search',
      attrs: {
        type: 'search',
        placeholder: 'Search name, id, image, origin',
        'aria-label': 'Search jobs'
      },
      on: { input: () => this._render() }
    });
    this._status = h(
      'select',
      {
        class: 'jp-mod-styled',
        attrs: { 'aria-label': 'Status', 'data-filter': 'status' },
        on: { change: () => this._render() }
      },
      [
        h('option', { text: 'Any status', attrs: { value: '' } }),
        h('option', { text: 'Unfinished', attrs: { value: 'active' } }),
        ...(Object.keys(STATUS_HINTS) as JobStatus[]).map(status =>
          h('option', { text: status, attrs: { value: status } })
        )
      ]
    );
    this._backend = h(
      'select',
      {
        class: 'jp-mod-styled',
        attrs: { 'aria-label': 'Backend', 'data-filter': 'backend' },
        on: { change: () => this._render() }
      },
      [h('option', { text: 'Any backend', attrs: { value: '' } })]
    );
    void this._fillBackends();
    this._deleteSelected = h('button', {
      class: 'jp-mod-styled jp-mod-warn jp-ContainerJob-button',
      text: 'Delete selected',
      attrs: { 'data-action': 'delete-selected' },
      on: { click: () => void this._delete([...this._selected]) }
    });
    const refresh = h('button', {
      class: 'jp-ContainerJob-iconButton',
      title: 'Refresh',
      attrs: { 'aria-label': 'Refresh', 'data-action': 'refresh' },
      on: { click: () => void this._model.refresh() }
    });
    refreshIcon.element({ container: refresh, tag: 'span' });
    this._all = h('input', {
      attrs: { type: 'checkbox', 'aria-label': 'Select all shown jobs' },
      on: { change: () => this._selectAll(this._all.checked) }
    });
    this._head = h('tr');
    this._body = h('tbody');
    this._count = h('span', { class: 'jp-ContainerJob-table-count' });
    this._error = h('p', {
      class: 'jp-ContainerJob-error',
      attrs: { role: 'alert' }
    });
    this._empty = h('p', { class: 'jp-ContainerJob-empty' });
    this.node.append(
      h('header', { class: 'jp-ContainerJob-table-toolbar' }, [
        this._search,
        this._status,
        this._backend,
        this._count,
        this._deleteSelected,
        refresh
      ]),
      this._error,
      h('table', { class: 'jp-ContainerJob-jobTable' }, [
        h('thead', {}, [this._head]),
        this._body
      ]),
      this._empty
    );
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.dispose();
    super.dispose();
  }

  /** Sort by `key`; the same key again flips the order. */
  sortBy(key: SortKey): void {
    this._descending = key === this._sortKey ? !this._descending : false;
    this._sortKey = key;
    this._render();
  }

  protected onAfterShow(msg: Message): void {
    this._model.visible = !document.hidden;
  }

  protected onAfterAttach(msg: Message): void {
    document.addEventListener('visibilitychange', this._onPageVisibility);
    this._model.visible = this.isVisible && !document.hidden;
  }

  protected onAfterHide(msg: Message): void {
    this._model.visible = false;
  }

  protected onBeforeDetach(msg: Message): void {
    document.removeEventListener('visibilitychange', this._onPageVisibility);
    this._model.visible = false;
  }

  private _onPageVisibility = (): void => {
    this._model.visible = this.isVisible && !document.hidden;
  };

  private async _fillBackends(): Promise<void> {
    const infos = await this._o.api.backends().catch(() => []);
    this._backend.append(
      ...infos.map(info =>
        h('option', {
          text: backendLabel(info.name, info.label),
          attrs: { value: info.name }
        })
      )
    );
  }

  /** The jobs the filters and the search let through, sorted. */
  private _rows(): IRow[] {
    const status = this._status.value;
    const backend = this._backend.value;
    const words = this._search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = this._model.jobs
      .filter(
        job =>
          (!status ||
            (status === 'active'
              ? !FINAL_STATUSES.has(job.status)
              : job.status === status)) &&
          (!backend || job.backend === backend)
      )
      .map(job => ({ job, name: readableName(job, this._o.placeOf(job.id)) }))
      .filter(row => {
        const text = searchText(row.job, row.name);
        return words.every(word => text.includes(word));
      });
    const sign = this._descending ? -1 : 1;
    return rows.sort((a, b) => sign * this._compare(a, b));
  }

  private _compare(a: IRow, b: IRow): number {
    const text = (x: string, y: string): number =>
      x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' });
    const number = (x: number | null, y: number | null): number =>
      (x ?? -Infinity) - (y ?? -Infinity);
    switch (this._sortKey) {
      case 'name':
        return text(a.name, b.name);
      case 'status':
        return text(a.job.status, b.job.status);
      case 'backend':
        return text(a.job.backend, b.job.backend);
      case 'image':
        return text(a.job.image, b.job.image);
      case 'duration':
        return number(this._seconds(a.job), this._seconds(b.job));
      case 'started':
        return number(
          a.job.started_at ?? a.job.created_at,
          b.job.started_at ?? b.job.created_at
        );
    }
  }

  private _seconds(job: IJob): number | null {
    return liveSeconds(job, this._model.receivedAt(job.id));
  }

  private _render(): void {
    const model = this._model;
    this._error.textContent = model.error
      ? `Cannot list jobs: ${model.error}`
      : '';
    this._error.hidden = !model.error;
    const rows = this._rows();
    const shown = new Set(rows.map(row => row.job.id));
    const known = new Set(model.jobs.map(job => job.id));
    for (const id of this._selected) {
      if (!known.has(id)) {
        this._selected.delete(id); // deleted, here or elsewhere
      }
    }
    this._renderHead(
      rows.length > 0 && rows.every(r => this._selected.has(r.job.id))
    );
    setChildren(
      this._body,
      sweepRows(
        rows,
        row => row.job,
        row => this._row(row),
        COLUMNS.length + 2
      )
    );
    const all = model.jobs.length;
    this._count.textContent =
      rows.length === all ? `${all} jobs` : `${rows.length} of ${all} jobs`;
    this._empty.hidden = rows.length > 0;
    this._empty.textContent = all
      ? 'No job matches the filters and the search.'
      : 'No jobs yet.';
    const selected = [...this._selected].filter(id => shown.has(id)).length;
    this._deleteSelected.disabled = this._selected.size === 0;
    this._deleteSelected.textContent = this._selected.size
      ? `Delete selected (${this._selected.size})`
      : 'Delete selected';
    this._deleteSelected.title =
      selected < this._selected.size
        ? `${this._selected.size - selected} of the selected jobs are hidden by the filters`
        : 'Delete the selected jobs';
  }

  private _renderHead(allSelected: boolean): void {
    this._all.checked = allSelected;
    setChildren(this._head, [
      h('th', { class: 'jp-ContainerJob-table-select' }, [this._all]),
      ...COLUMNS.map(([key, label]) => {
        const sorted = key === this._sortKey;
        return h(
          'th',
          {
            attrs: {
              scope: 'col',
              'data-sort': key,
              'aria-sort': sorted
                ? this._descending
                  ? 'descending'
                  : 'ascending'
                : 'none'
            }
          },
          [
            h('button', {
              class: 'jp-ContainerJob-sortButton',
              text: `${label}${sorted ? (this._descending ? ' ▾' : ' ▴') : ''}`,
              title: `Sort by ${label.toLowerCase()}`,
              on: { click: () => this.sortBy(key) }
            })
          ]
        );
      }),
      h('th', { attrs: { scope: 'col', 'aria-label': 'Actions' } })
    ]);
  }

  private _row({ job, name }: IRow): HTMLElement {
    const select = h('input', {
      attrs: { type: 'checkbox', 'aria-label': `Select ${job.id}` },
      on: {
        click: event => event.stopPropagation(),
        change: () => {
          if (select.checked) {
            this._selected.add(job.id);
          } else {
            this._selected.delete(job.id);
          }
          this._render();
        }
      }
    });
    select.checked = this._selected.has(job.id);
    const remove = h('button', {
      class: 'jp-ContainerJob-iconButton',
      title: `Delete ${job.id}`,
      attrs: { 'aria-label': `Delete ${job.id}`, 'data-action': 'delete' },
      on: {
        click: event => {
          event.stopPropagation();
          void this._delete([job.id]);
        }
      }
    });
    deleteIcon.element({ container: remove, tag: 'span' });
    const schedule = scheduleOf(job);
    return h(
      'tr',
      {
        class: 'jp-ContainerJob-table-row',
        title: job.message,
        attrs: { 'data-job-id': job.id, 'data-status': job.status },
        on: { click: () => this._o.open(job.id) }
      },
      [
        h('td', { class: 'jp-ContainerJob-table-select' }, [select]),
        h('td', { class: 'jp-ContainerJob-table-name' }, [
          h('div', { text: name, attrs: { 'data-role': 'name' } }),
          h('div', { class: 'jp-ContainerJob-job-meta' }, [
            job.id,
            job.origin && ` · ${job.origin}`,
            // Narrow tables drop the Image and Started columns (CSS): here they stay.
            h('span', {
              class: 'jp-ContainerJob-table-narrow',
              text: ` · ${job.image} · ${formatTime(job.started_at ?? job.created_at)}`
            }),
            schedule &&
              h('span', {
                class: 'jp-ContainerJob-tag',
                text: `schedule ${schedule}`,
                title: `Started by schedule ${schedule}`
              })
          ])
        ]),
        h('td', {}, [statusBadge(job.status)]),
        h('td', { text: job.backend }),
        h('td', { class: 'jp-ContainerJob-table-image', text: job.image }),
        h('td', {
          // failed before its container started: say so, not a blank
          text:
            job.started_at || !isFinal(job.status)
              ? formatTime(job.started_at)
              : 'not started',
          title: `Created ${formatTime(job.created_at)}`
        }),
        showDuration(h('td'), this._model, job.id),
        h('td', {}, [remove])
      ]
    );
  }

  private _selectAll(on: boolean): void {
    for (const { job } of this._rows()) {
      if (on) {
        this._selected.add(job.id);
      } else {
        this._selected.delete(job.id);
      }
    }
    this._render();
  }

  /**
   * Delete after a confirmation that names the jobs and says which are
   * unfinished (deleting one cancels it first: its containers stop).
   */
  private async _delete(ids: string[]): Promise<void> {
    if (!ids.length) {
      return;
    }
    const jobs = ids.map(id => this._model.get(id));
    const unfinished = jobs.filter(job => job && !isFinal(job.status));
    const names = jobs.slice(0, 8).map((job, i) =>
      h('li', {
        text: job
          ? `${readableName(job, this._o.placeOf(job.id))} (${job.id})`
          : ids[i]
      })
    );
    const more = ids.length > 8 ? `… and ${ids.length - 8} more` : '';
    const body = h('div', { class: 'jp-ContainerJob-confirm' }, [
      h('ul', {}, names),
      more && h('p', { text: more }),
      unfinished.length > 0 &&
        h('p', {
          class: 'jp-ContainerJob-form-warning',
          text: `${ids.length === 1 ? 'This job is' : `${unfinished.length} of them ${unfinished.length === 1 ? 'is' : 'are'}`} still running or waiting: deleting cancels ${unfinished.length === 1 ? 'it' : 'them'} first (containers are stopped and removed).`
        }),
      h('p', {
        text: 'Their records, logs and output files are removed for good.'
      })
    ]);
    const label = unfinished.length ? 'Cancel and delete' : 'Delete';
    const answer = await showDialog({
      title:
        ids.length === 1 ? 'Delete this job?' : `Delete ${ids.length} jobs?`,
      body: new Widget({ node: body }),
      buttons: [
        Dialog.cancelButton({ label: 'Keep' }),
        Dialog.warnButton({ label })
      ]
    });
    if (!answer.button.accept) {
      return;
    }
    const failed: string[] = [];
    for (const id of ids) {
      try {
        await this._o.api.deleteJob(id);
        this._selected.delete(id);
      } catch (reason) {
        failed.push(`${id}: ${describeError(reason)}`);
      }
    }
    await this._model.refresh();
    this._o.deleted();
    if (failed.length) {
      await showDialog({
        title: 'Some jobs were not deleted',
        body: failed.join('\n'),
        buttons: [Dialog.okButton()]
      });
    }
  }

  private readonly _model: JobListModel;
  private readonly _selected = new Set<string>();
  private _sortKey: SortKey = 'started';
  private _descending = true;
  private _search: HTMLInputElement;
  private _status: HTMLSelectElement;
  private _backend: HTMLSelectElement;
  private _deleteSelected: HTMLButtonElement;
  private _all: HTMLInputElement;
  private _head: HTMLElement;
  private _body: HTMLElement;
  private _count: HTMLElement;
  private _error: HTMLElement;
  private _empty: HTMLElement;
}

/** The table wrapped for the main area, one per app. */
export function jobsTableWidget(
  options: IJobsTableOptions
): MainAreaWidget<JobsTable> {
  const content = new JobsTable(options);
  const widget = new MainAreaWidget({ content });
  widget.id = 'containerjob-jobs-table';
  widget.title.icon = containerJobIcon;
  widget.title.label = 'Container jobs';
  widget.title.closable = true;
  return widget;
}
