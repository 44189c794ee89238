/**
 * What the job page asks before a re-run of a cell job (it runs the cell
 * again in the notebook's kernel, so the variables it brings back change,
 * and it writes a cell's output). A cancel's question is confirmcancel.ts's.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

/** Where a cell job's re-run goes: a copy of the cell below it, or the cell itself. */
export type RerunPlace = 'below' | 'replace';

/**
 * Ask how to re-run cell job `id` (cell `number` of `notebook`); `null`:
 * not at all. Running it in a new cell below is the default, so that the
 * cell's output is never replaced without the user saying so.
 */
export async function askRerunPlace(
  id: string,
  notebook: string,
  number: number
): Promise<RerunPlace | null> {
  const result = await showDialog({
    title: `Re-run job ${id}?`,
    body: `This runs the code of cell ${number} of ${notebook} again in the notebook's kernel, as a new container job. The variables it brings back are assigned again in the kernel. "Run in a new cell below" copies the cell below it and runs the copy, so this cell's output stays; "Replace this cell's output" runs the cell itself.`,
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: "Replace this cell's output" }),
      Dialog.okButton({ label: 'Run in a new cell below' })
    ],
    defaultButton: 2
  });
  if (!result.button.accept) {
    return null;
  }
  return result.button.displayType === 'warn' ? 'replace' : 'below';
}
