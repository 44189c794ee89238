/**
 * A CustomJob file run from the file browser in a real JupyterLab whose jobs
 * run in real local containers: "Run as Vertex AI CustomJob…" on a YAML file
 * opens the Run a container form with the file chosen and what it sets, Run
 * runs it locally, and a misspelt field in a file is named under the field.
 * Screenshots of the form light and dark, 1440 and 900 px.
 */
import {
  IJupyterLabPageFixture,
  expect,
  galata,
  test
} from '@jupyterlab/galata';

import type { Locator } from '@playwright/test';

import { IMAGE, shots } from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'containerjob:plugin': { image: IMAGE }
  }
});

const PRINT = "print('hello from a CustomJob file')";
const TRAIN = `workerPoolSpecs:
  machineSpec: {machineType: n1-standard-8}
  replicaCount: 1
  containerSpec:
    imageUri: ${IMAGE}
    command: [python3, -c, "${PRINT}"]
`;
const MISSPELT = TRAIN.replace('    command:', '    comand:');

/** Write `text` to `name` under `tmpPath`, then right-click it in the file browser and run it. */
async function runFromFileBrowser(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  text: string
): Promise<Locator> {
  await page.contents.uploadContent(text, 'text', `${tmpPath}/${name}`);
  await page.filebrowser.openDirectory(tmpPath);
  await page
    .locator('.jp-DirListing-item', { hasText: name })
    .click({ button: 'right' });
  await page
    .locator('.lm-Menu-itemLabel', { hasText: 'Run as Vertex AI CustomJob…' })
    .click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-ContainerJob-form')).toBeVisible();
  await expect(dialog.locator('input[name="config"]')).toHaveValue(
    `${tmpPath}/${name}`
  );
  return dialog;
}

test('a CustomJob file runs from the file browser and its line shows in the logs', async ({
  page,
  tmpPath
}) => {
  const dialog = await runFromFileBrowser(page, tmpPath, 'train.yaml', TRAIN);

  await test.step('the form shows what the file sets; the empty fields take it', async () => {
    await expect(dialog.locator('select[name="backend"]')).toHaveValue('local');
    const facts = dialog.locator('.jp-ContainerJob-form-filefacts');
    await expect(facts.locator('dt')).toHaveText([
      'Image',
      'Command',
      'Arguments',
      'Machine',
      'Replicas'
    ]);
    await expect(facts.locator('dd')).toHaveText([
      IMAGE,
      `python3 -c "${PRINT}"`,
      'none',
      'n1-standard-8',
      '1 (the chief alone)'
    ]);
    await expect(dialog.locator('input[name="image"]')).toHaveValue('');
    await expect(dialog.locator('input[name="image"]')).toHaveAttribute(
      'placeholder',
      `from the file: ${IMAGE}`
    );
    await expect(dialog.locator('input[name="command"]')).toHaveAttribute(
      'placeholder',
      `from the file: python3 -c "${PRINT}"`
    );
    const run = dialog.locator('.jp-Dialog-button.jp-mod-accept');
    await expect(run).toBeEnabled();
    await shots(page, dialog.locator('.jp-Dialog-content'), 'form-customjob');
    await run.click();
  });

  await test.step('Run runs it locally: the job succeeds with the printed line', async () => {
    await expect(page.locator('.jp-Dialog')).toHaveCount(0);
    const detail = page.locator('.jp-ContainerJob-detail:visible');
    await expect(detail.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      { timeout: 120000 }
    );
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      'hello from a CustomJob file'
    );
  });
});

test('a misspelt field in a CustomJob file is named under the file', async ({
  page,
  tmpPath
}) => {
  const dialog = await runFromFileBrowser(
    page,
    tmpPath,
    'misspelt.yml',
    MISSPELT
  );
  const problem = dialog.locator(
    '.jp-ContainerJob-form-error[data-field="config"]'
  );
  await expect(problem).toContainText('no field named "comand"');
  await expect(dialog.locator('.jp-ContainerJob-form-filefacts')).toBeHidden();
  await expect(
    dialog.locator('.jp-Dialog-button.jp-mod-accept')
  ).toBeDisabled();
  await shots(
    page,
    dialog.locator('.jp-Dialog-content'),
    'form-customjob-error'
  );
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
});
