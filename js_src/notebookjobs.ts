/**
 * Which jobs each open notebook's cells launched.
 *
 * The record lives in the notebook itself (`cell.metadata.containerjob.jobs`),
 * so reopening a notebook, even after a kernel restart, shows its jobs. The
 * ids arrive through the output the magic displays when it submits a job
 * ({@link JOB_MIME}); they are copied into the cell metadata and handed to
 * the job list model, which fetches their records.
 */
import { ICellModel, ICodeCellModel } from '@jupyterlab/cells';

import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { IObservableList } from '@jupyterlab/observables';

import { ISignal, Signal } from '@lumino/signaling';

import {
  METADATA_KEY,
  announcements,
  readMetadata,
  withJob
} from './cellmagic';

import { isFinal } from './api';

import { ICellPlace } from './jobnames';

import { JobListModel } from './model';

/** A job launched by a cell of a notebook. */
export interface ICellJob {
  id: string;
  cell: ICellModel;
}

export class NotebookJobs {
  constructor(
    tracker: INotebookTracker,
    private readonly _model: JobListModel
  ) {
    tracker.widgetAdded.connect((_, panel) => {
      void panel.context.ready.then(() => this._attach(panel));
    });
    tracker.forEach(panel => {
      void panel.context.ready.then(() => this._attach(panel));
    });
  }

  /** Emitted with the notebook whose list of jobs changed. */
  get changed(): ISignal<this, NotebookPanel> {
    return this._changed;
  }

  /** Jobs launched from `panel`'s cells, in cell order, oldest first. */
  jobsOf(panel: NotebookPanel | null): ICellJob[] {
    const cells = panel?.model?.cells;
    if (!cells) {
      return [];
    }
    const found: ICellJob[] = [];
    for (const cell of cells) {
      for (const id of readMetadata(cell.getMetadata(METADATA_KEY)).jobs ??
        []) {
        found.push({ id, cell });
      }
    }
    return found;
  }

  /** The open notebook and cell that launched job `id`, if any. */
  findCell(id: string): { panel: NotebookPanel; cell: ICellModel } | null {
    for (const panel of this._panels) {
      const hit = this.jobsOf(panel).find(job => job.id === id);
      if (hit) {
        return { panel, cell: hit.cell };
      }
    }
    return null;
  }

  /** Where the open notebook holds the cell that launched job `id`, if any. */
  placeOf(id: string): ICellPlace | null {
    const found = this.findCell(id);
    if (!found) {
      return null;
    }
    const cells = [...(found.panel.model?.cells ?? [])];
    return {
      number: cells.indexOf(found.cell) + 1,
      source: found.cell.sharedModel.getSource()
    };
  }

  private _attach(panel: NotebookPanel): void {
    const cells = panel.model?.cells;
    if (!cells || this._panels.has(panel)) {
      return;
    }
    this._panels.add(panel);
    panel.disposed.connect(() => this._panels.delete(panel));
    const known: string[] = [];
    for (const cell of cells) {
      this._watchCell(panel, cell);
      known.push(...(readMetadata(cell.getMetadata(METADATA_KEY)).jobs ?? []));
      // Saved outputs name jobs too (e.g. a magic typed by hand before).
      if (cell.type === 'code') {
        known.push(
          ...announcements((cell as ICodeCellModel).outputs.toJSON()).map(
            a => a.id
          )
        );
      }
    }
    this._model.track(known);
    cells.changed.connect(
      (_, change: IObservableList.IChangedArgs<ICellModel>) => {
        if (change.type === 'add' || change.type === 'set') {
          for (const cell of change.newValues) {
            this._watchCell(panel, cell);
          }
        }
        this._changed.emit(panel);
      }
    );
    this._changed.emit(panel);
  }

  /** Record the jobs a code cell's outputs announce from now on. */
  private _watchCell(panel: NotebookPanel, cell: ICellModel): void {
    if (cell.type !== 'code' || this._watchedCells.has(cell)) {
      return;
    }
    this._watchedCells.add(cell);
    const outputs = (cell as ICodeCellModel).outputs;
    const seen = new Set(announcements(outputs.toJSON()).map(a => a.id));
    outputs.changed.connect(() => {
      for (const announced of announcements(outputs.toJSON())) {
        if (seen.has(announced.id)) {
          continue;
        }
        seen.add(announced.id);
        const metadata = readMetadata(cell.getMetadata(METADATA_KEY));
        cell.setMetadata(METADATA_KEY, withJob(metadata, announced.id));
        if (isFinal(announced.status)) {
          this._model.track([announced.id]);
        } else {
          this._model.watch(announced.id);
        }
        this._changed.emit(panel);
      }
    });
  }

  private _panels = new Set<NotebookPanel>();
  private _watchedCells = new WeakSet<ICellModel>();
  private _changed = new Signal<this, NotebookPanel>(this);
}
