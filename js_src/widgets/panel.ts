/**
 * The left sidebar: the launch actions that need no notebook (a container
 * job), jobs of the current notebook's cells, all recent jobs (of every
 * backend the server has) and the schedules. It polls only while shown.
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

import { IRowActions, jobRow, missingRow } from './joblist';

import { SchedulesView } from './schedules';

export interface IJobsPanelOptions {
  model: JobListModel;
  notebookJobs: NotebookJobs;
  tracker: INotebookTracker;
  schedules: SchedulesView;
  actions: IRowActions;
  /** "Run a container…": the form of a container job. */
  runContainer: () => void;
}

/** Schedules change rarely: refreshed this often while the panel is shown. */
const SCHEDULES_EVERY_MS = 30000;

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
    this._empty = h('p', {
      class: 'jp-ContainerJob-empty',
      text: 'No jobs yet. Run a cell or a notebook from the notebook toolbar (Container job ▾), or an image with "Run a container…" above.'
    });
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
        })
      ]),
      this._error,
      this._notebookSection,
      h(
        'section',
        { class: 'jp-ContainerJob-section jp-ContainerJob-allJobs' },
        [
          h('h3', {
            class: 'jp-ContainerJob-sectionTitle',
            text: 'Recent jobs'
          }),
          this._empty,
          this._jobList
        ]
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
    if (visible && this._schedulesTimer === null) {
      void this._o.schedules.refresh();
      this._schedulesTimer = setInterval(
        () => void this._o.schedules.refresh(),
        SCHEDULES_EVERY_MS
      );
    } else if (!visible && this._schedulesTimer !== null) {
      clearInterval(this._schedulesTimer);
      this._schedulesTimer = null;
    }
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
    const { model, actions } = this._o;
    this._error.textContent = model.error
      ? `Cannot list jobs: ${model.error}`
      : '';
    this._error.hidden = !model.error;

    const panel: NotebookPanel | null = this._o.tracker.currentWidget;
    const cellJobs = this._o.notebookJobs.jobsOf(panel);
    this._notebookSection.hidden = cellJobs.length === 0;
    if (panel && cellJobs.length) {
      this._notebookTitle.textContent = `Launched from ${panel.context.localPath.replace(/^.*\//, '')}`;
      const cells = [...(panel.model?.cells ?? [])];
      const rows = [...cellJobs].reverse().map(({ id, cell }) => {
        const note = `cell ${cells.indexOf(cell) + 1}`;
        const job = model.get(id);
        if (job) {
          return jobRow(job, actions, note);
        }
        return model.isMissing(id)
          ? missingRow(id, note)
          : h('li', {
              class: 'jp-ContainerJob-job jp-mod-loading',
              text: `${id} · ${note} · loading…`
            });
      });
      setChildren(this._notebookList, rows);
    }

    const jobs = model.jobs;
    this._empty.hidden = jobs.length > 0;
    setChildren(
      this._jobList,
      jobs.map(job => jobRow(job, actions))
    );
  }

  private _filter: HTMLSelectElement;
  private _error: HTMLElement;
  private _notebookSection: HTMLElement;
  private _notebookTitle: HTMLElement;
  private _notebookList: HTMLElement;
  private _jobList: HTMLElement;
  private _empty: HTMLElement;
  private _schedulesTimer: ReturnType<typeof setInterval> | null = null;
}
