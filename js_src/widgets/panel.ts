/**
 * The left sidebar: the launch actions that need no notebook (a container
 * job), one list of jobs (those the current notebook's cells launched
 * first, newest first, then the other recent jobs, none twice; the backend
 * filter applies to both), the way to the full jobs table, and the
 * schedules. It polls only while shown.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { refreshIcon } from '@jupyterlab/ui-components';

import { Message } from '@lumino/messaging';

import { Widget } from '@lumino/widgets';

import { BACKEND_LABELS, backendLabel } from '../backends';

import { JobListModel } from '../model';

import { NotebookJobs } from '../notebookjobs';

import { h, setChildren } from './dom';

import { containerJobIcon } from './icons';

import { IRowActions, IRowContext, jobRow, missingRow } from './joblist';

import { splitByNotebook } from './onelist';

import { SchedulesView } from './schedules';

export interface IJobsPanelOptions {
  model: JobListModel;
  notebookJobs: NotebookJobs;
  tracker: INotebookTracker;
  /** Shown in the panel, followed while it shows, disposed with it. */
  schedules: SchedulesView;
  actions: IRowActions;
  /** "Run a container…": the form of a container job. */
  runContainer: () => void;
  /** The jobs table in the main area. */
  openTable: () => void;
}

const NO_JOBS =
  'No jobs yet. Run a cell or a notebook from the notebook toolbar (Container job ▾), or an image with "Run a container…" above.';

export class JobsPanel extends Widget {
  constructor(private readonly _o: IJobsPanelOptions) {
    super();
    this.id = 'containerjob-sidebar';
    this.addClass('jp-ContainerJob-panel');
    this.title.icon = containerJobIcon;
    this.title.caption = 'Container jobs';

    const refresh = h('button', {
      class: 'jp-ContainerJob-iconButton',
      title: 'Refresh jobs and schedules',
      attrs: { 'aria-label': 'Refresh', 'data-action': 'refresh' },
      on: { click: () => this.refresh() }
    });
    refreshIcon.element({ container: refresh, tag: 'span' });
    this._filter = h(
      'select',
      {
        class: 'jp-mod-styled jp-ContainerJob-filter',
        attrs: { 'aria-label': 'Backend', title: 'Show jobs of one backend' },
        on: {
          change: () => {
            const backend = this._filter.value;
            _o.model.query = backend ? { backend } : {};
          }
        }
      },
      [h('option', { text: 'All', attrs: { value: '' } })]
    );
    void this._fillFilter();
    this._error = h('p', {
      class: 'jp-ContainerJob-error',
      attrs: { role: 'alert' }
    });
    this._notebookTitle = h('h3', { class: 'jp-ContainerJob-sectionTitle' });
    this._notebookList = h('ul', { class: 'jp-ContainerJob-list' });
    this._notebookSection = h(
      'section',
      { class: 'jp-ContainerJob-section jp-ContainerJob-notebookJobs' },
      [this._notebookTitle, this._notebookList]
    );
    this._jobList = h('ul', { class: 'jp-ContainerJob-list' });
    this._allTitle = h('h3', { class: 'jp-ContainerJob-sectionTitle' });
    this._empty = h('p', { class: 'jp-ContainerJob-empty', text: NO_JOBS });
    this.node.append(
      h('header', { class: 'jp-ContainerJob-header' }, [
        h('h2', { class: 'jp-ContainerJob-title', text: 'Container jobs' }),
        this._filter,
        refresh
      ]),
      h('div', { class: 'jp-ContainerJob-launch' }, [
        h('button', {
          class: 'jp-ContainerJob-textButton',
          text: 'Run a container…',
          title:
            "Run an image's own program (or a command) with arguments, locally or on Vertex AI",
          attrs: { 'data-action': 'run-container' },
          on: { click: () => _o.runContainer() }
        }),
        h('button', {
          class: 'jp-ContainerJob-textButton',
          text: 'All jobs (table)',
          title:
            'Every job in a full-width table: sort, filter, search, delete',
          attrs: { 'data-action': 'open-table' },
          on: { click: () => _o.openTable() }
        })
      ]),
      this._error,
      this._notebookSection,
      h(
        'section',
        { class: 'jp-ContainerJob-section jp-ContainerJob-allJobs' },
        [this._allTitle, this._empty, this._jobList]
      ),
      _o.schedules.node
    );

    _o.model.changed.connect(this._render, this);
    _o.notebookJobs.changed.connect((_, panel) => {
      if (panel === _o.tracker.currentWidget) {
        this._render();
      }
    });
    _o.tracker.currentChanged.connect(this._render, this);
    document.addEventListener('visibilitychange', this._onPageVisibility);
    this._render();
  }

  /** Poll now: jobs and schedules. */
  refresh(): void {
    void this._o.model.refresh();
    void this._o.schedules.refresh();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    document.removeEventListener('visibilitychange', this._onPageVisibility);
    this._setVisible(false);
    this._o.schedules.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    this._setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    this._setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    this._setVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._setVisible(false);
  }

  private _onPageVisibility = (): void => {
    this._setVisible(this.isVisible);
  };

  /** Shown in a visible browser tab: poll; otherwise stop. */
  private _setVisible(shown: boolean): void {
    const visible = shown && !document.hidden;
    this._o.model.visible = visible;
    this._o.schedules.active = visible;
  }

  /** The filter's backends: the server's (plugins too), else the built-ins. */
  private async _fillFilter(): Promise<void> {
    const infos = await this._o.model.api.backends().catch(() => null);
    const backends: [string, string][] = infos
      ? infos.map(info => [info.name, backendLabel(info.name, info.label)])
      : Object.entries(BACKEND_LABELS);
    const chosen = this._filter.value;
    setChildren(this._filter, [
      h('option', { text: 'All', attrs: { value: '' } }),
      ...backends.map(([name, label]) =>
        h('option', { text: label, attrs: { value: name } })
      )
    ]);
    this._filter.value = chosen;
  }

  private _render(): void {
    const { model, actions, notebookJobs } = this._o;
    this._error.textContent = model.error
      ? `Cannot list jobs: ${model.error}`
      : '';
    this._error.hidden = !model.error;
    const context: IRowContext = {
      actions,
      durations: model,
      placeOf: id => notebookJobs.placeOf(id)
    };

    const panel: NotebookPanel | null = this._o.tracker.currentWidget;
    const { fromNotebook, others } = splitByNotebook(
      notebookJobs.jobsOf(panel).map(({ id }) => id),
      model,
      model.query.backend
    );
    this._notebookSection.hidden = !panel || fromNotebook.length === 0;
    this._notebookTitle.textContent = panel
      ? `Launched from ${panel.context.localPath.replace(/^.*\//, '')}`
      : '';
    setChildren(
      this._notebookList,
      fromNotebook.map(({ id, job }) => {
        if (job) {
          return jobRow(job, context);
        }
        const place = notebookJobs.placeOf(id);
        const note = place ? `cell ${place.number}` : '';
        return model.isMissing(id)
          ? missingRow(id, note)
          : h('li', {
              class: 'jp-ContainerJob-job jp-mod-loading',
              text: `${id} · ${note} · loading…`
            });
      })
    );
    this._empty.hidden = others.length > 0 || fromNotebook.length > 0;
    this._empty.textContent = model.query.backend
      ? 'No jobs of this backend. Choose "All" to see every job.'
      : NO_JOBS;
    this._allTitle.textContent = this._notebookSection.hidden
      ? 'Recent jobs'
      : 'Other recent jobs';
    this._allTitle.hidden = others.length === 0 && fromNotebook.length > 0;
    setChildren(
      this._jobList,
      others.map(job => jobRow(job, context))
    );
  }

  private _filter: HTMLSelectElement;
  private _error: HTMLElement;
  private _notebookSection: HTMLElement;
  private _notebookTitle: HTMLElement;
  private _notebookList: HTMLElement;
  private _jobList: HTMLElement;
  private _allTitle: HTMLElement;
  private _empty: HTMLElement;
}
