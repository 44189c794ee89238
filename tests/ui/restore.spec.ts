/**
 * A kernel that lost a finished cell job's variables (here `%reset`; a
 * reopened notebook's new kernel alike): the job's chip offers to restore the
 * cell's output and variables, and doing so brings them back.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import * as path from 'path';

import { ARTIFACTS, IMAGE, announcedJob, openNotebook } from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'containerjob:plugin': { image: IMAGE }
  }
});

test('a finished job is restored into a kernel that lost it', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'restore.ipynb', [
    { source: '%load_ext containerjob' },
    {
      source: `%%containerjob --image ${IMAGE}\nprint("trained in the container")\nweights = [1, 2, 3]`
    },
    { source: '%reset -f' },
    { source: 'print("weights:", weights)' }
  ]);
  await page.notebook.runCell(0);
  await page.notebook.runCell(1);
  const { id, chip } = await announcedJob(page, 1);
  await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
    'SUCCEEDED',
    { timeout: 120000 }
  );
  const restore = chip.locator('.jp-ContainerJob-restore');
  await expect(restore).toBeVisible();

  await test.step('after %reset the variable is gone', async () => {
    await page.notebook.runCell(2);
    await page.notebook.runCell(3);
    expect((await page.notebook.getCellTextOutput(3))!.join('')).toContain(
      "NameError: name 'weights' is not defined"
    );
  });

  await test.step('the chip restores the log and the variables below the cell', async () => {
    await restore.click();
    const fetched = (await page.notebook.getCellLocator(2))!;
    await expect(fetched.locator('.jp-InputArea-editor')).toContainText(
      `%containerjob fetch ${id}`
    );
    await expect(fetched.locator('.jp-Cell-outputArea')).toContainText(
      'new: weights (list',
      { timeout: 60000 }
    );
    await expect(fetched.locator('.jp-Cell-outputArea')).toContainText(
      'trained in the container'
    );
    await (await page.notebook.getCellLocator(1))!.screenshot({
      path: path.join(ARTIFACTS, 'restore-chip.png')
    });
    await page.notebook.runCell(4);
    expect((await page.notebook.getCellTextOutput(4))!.join('')).toContain(
      'weights: [1, 2, 3]'
    );
  });
});
