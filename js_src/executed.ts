/**
 * The executed notebook of a notebook job, opened in JupyterLab.
 *
 * It is copied once into the server root, next to the notebook it ran (so
 * its relative paths mean what they meant there), as
 * `<name>-executed-<job id>.ipynb`, then opened by the document manager: a
 * real notebook a user can read, re-run, save and share like any other,
 * which a read-only view could not give. The job's output never changes,
 * so an existing copy (maybe with the user's edits) is opened as it is.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';

import { PageConfig } from '@jupyterlab/coreutils';

import { Contents } from '@jupyterlab/services';

import { ContainerJobAPI, IJob } from './api';

import { contentsPath } from './origin';

/** Where the copy of output `file` of `job` goes under the server root. */
export function executedPath(
  job: IJob,
  file: string,
  serverRoot: string
): string {
  const origin = contentsPath(job.origin, serverRoot);
  const folder = origin?.includes('/') ? origin.replace(/\/[^/]*$/, '/') : '';
  const stem = file.replace(/^.*\//, '').replace(/\.ipynb$/, '');
  return `${folder}${stem}-executed-${job.id}.ipynb`;
}

/** Copy output `file` of `job` (unless copied before) and open it. */
export async function openExecuted(
  app: JupyterFrontEnd,
  api: ContainerJobAPI,
  job: IJob,
  file: string
): Promise<void> {
  const contents = app.serviceManager.contents;
  const path = executedPath(job, file, PageConfig.getOption('serverRoot'));
  if (!(await exists(contents, path))) {
    const blob = await api.downloadOutput(job.id, file);
    const content = JSON.parse(await blob.text());
    await contents.save(path, { type: 'notebook', format: 'json', content });
  }
  await app.commands.execute('docmanager:open', { path });
}

async function exists(
  contents: Contents.IManager,
  path: string
): Promise<boolean> {
  try {
    await contents.get(path, { content: false });
    return true;
  } catch (reason) {
    if ((reason as { response?: Response }).response?.status === 404) {
      return false;
    }
    throw reason;
  }
}
