/**
 * The launch forms as a first-time user meets them: a local form says nothing
 * of Google Cloud; a form opens quiet (problems show after the user changed a
 * field or pressed Run) with the cursor in the first field to fill in; a
 * default is a value marked "default"; one name per action; the schedule's
 * time is 24-hour like its sentence; a near miss of an option is named.
 */
import {
  IJupyterLabPageFixture,
  expect,
  galata,
  test
} from '@jupyterlab/galata';

import { openNotebook, openSidebar, shots, toolbarAction } from './helpers';

// No image in the settings registry: the forms show the server's default.
test.use({ mockSettings: { ...galata.DEFAULT_SETTINGS } });

/** The server's default image, as `GET settings` reports it (Python's settings). */
async function serverImage(page: IJupyterLabPageFixture): Promise<string> {
  const response = await page.request.get('/containerjob/settings');
  return (await response.json()).default_image;
}

test('forms: the container form opens quiet, in Image, and local says nothing of Google Cloud', async ({
  page
}) => {
  const panel = await openSidebar(page);
  const launch = panel.locator('button[data-action="run-container"]');
  await expect(launch).toHaveText('Run a container…');
  await launch.click();
  const dialog = page.locator('.jp-Dialog');
  const image = dialog.locator('input[name="image"]');
  const problem = dialog.locator(
    '.jp-ContainerJob-form-error[data-field="options.image"]'
  );
  const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');

  await test.step('nothing is red before anything was typed; the cursor is in Image', async () => {
    await expect(page.locator('.jp-Dialog-header')).toHaveText(
      'Run a container'
    );
    await expect(image).toBeFocused();
    await expect(image).toHaveAttribute('placeholder', 'required');
    await page.waitForTimeout(1000); // the form's own check has answered by now
    await expect(
      dialog.locator('.jp-ContainerJob-form-error:visible')
    ).toHaveCount(0);
    await expect(dialog.locator('.jp-ContainerJob-form-errors')).toBeHidden();
    await expect(accept).toBeEnabled();
  });

  await test.step('a local form says nothing of Google Cloud', async () => {
    await expect(dialog.locator('select[name="backend"]')).toHaveValue('local');
    await expect(dialog.locator('.jp-ContainerJob-form-project')).toBeHidden();
    await expect(dialog.locator('input[name="project"]')).toBeHidden();
    await expect(dialog.locator('.jp-ContainerJob-form')).not.toContainText(
      /Google Cloud|GCP/,
      { useInnerText: true }
    );
    await shots(page, dialog.locator('.jp-Dialog-content'), 'forms-container');
  });

  await test.step('a Vertex AI backend shows the project', async () => {
    await dialog.locator('select[name="backend"]').selectOption('vertex');
    await expect(dialog.locator('.jp-ContainerJob-form-project')).toHaveText(
      'Project: containerjob-ui-test (from GOOGLE_CLOUD_PROJECT)'
    );
    await expect(dialog.locator('input[name="project"]')).toBeVisible();
    await dialog.locator('select[name="backend"]').selectOption('local');
    await expect(dialog.locator('input[name="project"]')).toBeHidden();
  });

  await test.step('a field the user emptied says what it needs', async () => {
    await image.fill('x');
    await image.fill('');
    await expect(problem).toContainText('Image is required');
    await expect(accept).toBeDisabled();
    await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  });

  await test.step('Run on a fresh form names what is missing, the cursor at it', async () => {
    await launch.click();
    await expect(image).toBeFocused();
    await accept.click();
    await expect(problem).toContainText('Image is required');
    await expect(image).toBeFocused();
    await shots(
      page,
      dialog.locator('.jp-Dialog-content'),
      'forms-container-run-pressed'
    );
    await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  });
});

test('forms: a default is a value marked "default", sent as nothing', async ({
  page,
  tmpPath
}) => {
  const defaultImage = await serverImage(page);
  expect(defaultImage).toMatch(/\S/);
  await openNotebook(page, tmpPath, 'defaults.ipynb', [{ source: 'x = 1' }]);
  await page.notebook.selectCells(0);
  await toolbarAction(page, 'Run cell in container');
  const dialog = page.locator('.jp-Dialog');
  const image = dialog.locator('input[name="image"]');
  const mark = dialog
    .locator('.jp-ContainerJob-form-row', {
      has: page.locator('input[name="image"]')
    })
    .locator('.jp-ContainerJob-form-default');

  await expect(image).toHaveValue(defaultImage);
  await expect(mark).toHaveText('default');
  await expect(mark).toBeVisible();
  await expect(dialog.locator('input[name="project"]')).toBeHidden();
  await image.fill('python:3.12-slim');
  await expect(mark).toBeHidden();
  await image.fill('');
  await expect(mark).toBeVisible(); // empty: the job gets the default
  await image.fill(defaultImage);
  await expect(mark).toBeHidden(); // typed: the line says it
  await image.fill('');
  await dialog.locator('input[name="rest"]').fill('--dry-run');
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  // The default is not pinned on the line: the server applies it.
  await expect
    .poll(() => page.notebook.getCellTextInput(0))
    .toBe('%%containerjob --backend local --dry-run\nx = 1');
});

test('forms: one name per action in the menus and the sidebar', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'words.ipynb', [{ source: 'x = 1' }]);
  await page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar')
    .getByText('Container job')
    .click();
  const menu = page.locator('.lm-Menu.jp-ContainerJob-menu');
  await expect(
    menu.locator(
      '.lm-Menu-item:not([data-type="separator"]) .lm-Menu-itemLabel'
    )
  ).toHaveText([
    'Run cell in container',
    'Submit cell to Vertex AI',
    'Run notebook in container',
    'Submit notebook to Vertex AI Executor',
    'Schedule notebook…',
    'Run a container…'
  ]);
  await page.keyboard.press('Escape');
  const panel = await openSidebar(page);
  await expect(panel.locator('button[data-action="run-container"]')).toHaveText(
    'Run a container…'
  );
});

test('forms: the schedule time is 24-hour, as its sentence', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'nightly.ipynb', [{ source: 'x = 1' }]);
  await toolbarAction(page, 'Schedule notebook…');
  const dialog = page.locator('.jp-Dialog');
  const at = dialog.locator('input[name="at"]');
  await dialog.locator('select[name="preset"]').selectOption('weekdays');
  await expect(at).toHaveAttribute('type', 'text');
  await at.fill('21:30');
  await expect(dialog.locator('input[name="cron"]')).toHaveValue(
    '30 21 * * 1-5'
  );
  await expect(at).toHaveValue('21:30');
  await expect(dialog.locator('.jp-ContainerJob-cronPreview')).toContainText(
    'At 21:30, Monday through Friday'
  );
  await expect(at).toHaveAttribute('aria-invalid', 'false');
  await shots(page, dialog.locator('.jp-Dialog-content'), 'forms-schedule');
  await at.fill('9pm');
  await expect(at).toHaveAttribute('aria-invalid', 'true');
  await expect(at).toHaveAttribute('title', /write HH:MM, e\.g\. 09:00/);
  await expect(dialog.locator('input[name="cron"]')).toHaveValue(
    '30 21 * * 1-5'
  );
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
});

test('forms: a near miss of an option is named, not read as another', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'gpu.ipynb', [
    { source: '%%containerjob --gpu 1\nx = 1' }
  ]);
  await page.notebook.selectCells(0);
  await toolbarAction(page, 'Run cell in container');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('input[name="rest"]')).toHaveValue('--gpu 1');
  await expect(dialog.locator('input[name="gpus"]')).toHaveValue('');
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(
    dialog.locator('.jp-ContainerJob-form-error[data-field="rest"]')
  ).toContainText('unknown option --gpu: did you mean --gpus?');
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  expect(await page.notebook.getCellTextInput(0)).toBe(
    '%%containerjob --gpu 1\nx = 1'
  );
});
