/**
 * Where a job came from, as a place to go: the cell that launched it
 * (opened, scrolled to and selected), or the notebook or script that did.
 *
 * A cell job's origin is its kernel's notebook (an absolute path on the
 * server); a REST notebook job's is the path under the server root. Open
 * notebooks know their jobs (notebookjobs.ts); a notebook opened from disk
 * finds the cell by the job ids its cells' metadata records.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';

import { PageConfig } from '@jupyterlab/coreutils';

import { NotebookPanel } from '@jupyterlab/notebook';

import { IJob } from './api';

import { METADATA_KEY, readMetadata } from './cellmagic';

import { NotebookJobs } from './notebookjobs';

import { contentsPath } from './contentspath';

export { contentsPath };

/** What going to the origin of `job` does, for its link; `null`: nowhere. */
export function originAction(
  job: IJob,
  notebookJobs: NotebookJobs
): string | null {
  if (job.spec.kind === 'cell') {
    return notebookJobs.findCell(job.id) || originPath(job)
      ? 'Go to cell'
      : null;
  }
  const path = originPath(job);
  return path ? `Open ${path.replace(/^.*\//, '')}` : null;
}

function originPath(job: IJob): string | null {
  return contentsPath(job.origin, PageConfig.getOption('serverRoot'));
}

/**
 * Go to where `job` came from: a cell job's cell (its notebook opened when
 * it is not), else its notebook or script. Resolves with what went wrong,
 * or `null`.
 */
export async function goToOrigin(
  app: JupyterFrontEnd,
  notebookJobs: NotebookJobs,
  job: IJob
): Promise<string | null> {
  const open = notebookJobs.findCell(job.id);
  if (open) {
    return selectCell(app, open.panel, job.id);
  }
  const path = originPath(job);
  if (!path) {
    return `${job.origin || 'its origin'} is not a file under this server's root: open it yourself`;
  }
  const widget = await app.commands.execute('docmanager:open', { path });
  if (job.spec.kind !== 'cell') {
    return null;
  }
  if (!(widget instanceof NotebookPanel)) {
    return `${path} did not open as a notebook`;
  }
  await widget.context.ready;
  return selectCell(app, widget, job.id);
}

/** Show `panel` with the cell whose metadata records job `id` selected. */
async function selectCell(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  id: string
): Promise<string | null> {
  app.shell.activateById(panel.id);
  const notebook = panel.content;
  const index = notebook.widgets.findIndex(cell =>
    (readMetadata(cell.model.getMetadata(METADATA_KEY)).jobs ?? []).includes(id)
  );
  if (index < 0) {
    return `no cell of ${panel.context.path} records job ${id} any more`;
  }
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  await notebook.scrollToCell(notebook.widgets[index], 'center');
  return null;
}
