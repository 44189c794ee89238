/**
 * The containerjob front end in a real JupyterLab: cells run in real local
 * containers through the toolbar and context-menu actions, the sidebar and
 * the job view follow them, and notifications announce their end.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import * as path from 'path';

import {
  ARTIFACTS,
  IMAGE,
  PROJECT,
  announcedJob,
  cancelFromPage,
  launchForm,
  openNotebook,
  openSidebar,
  reportUnavailable,
  toolbarAction
} from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'containerjob:plugin': { image: IMAGE }
  }
});

/** `POST jobs` (a new job). */
const JOBS_ROUTE = /\/containerjob\/jobs(\?|$)/;

test.describe('containerjob sidebar and notebook actions', () => {
  test('runs a cell in a container with its variables and shows it everywhere', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'cells.ipynb', [
      { source: 'data = list(range(10))' },
      { source: 'total = sum(data)\nprint("total is", total)' },
      { source: 'print("back in the kernel:", total)' }
    ]);
    await page.notebook.runCell(0);

    await test.step('the toolbar action writes the magic line and runs the cell', async () => {
      await page.notebook.selectCells(1);
      await toolbarAction(page, 'Run cell in container');
      const dialog = await launchForm(page);
      await dialog
        .locator('.jp-Dialog-content')
        .screenshot({ path: path.join(ARTIFACTS, 'form-light.png') });
      await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
      expect(await page.notebook.getCellTextInput(1)).toBe(
        `%%containerjob --backend local --image ${IMAGE}\ntotal = sum(data)\nprint("total is", total)`
      );
    });

    const { id, chip } = await announcedJob(page, 1);
    await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      { timeout: 120000 }
    );
    await test.step('a notification announces the end and opens the job', async () => {
      const toast = page.locator('.Toastify__toast', {
        hasText: `Job ${id} succeeded`
      });
      await expect(toast).toBeVisible();
      await toast.getByRole('button', { name: 'Show job' }).click();
    });

    await page.notebook.activate('cells.ipynb');
    await page.notebook.waitForRun(1);

    await test.step('the variable came back into the kernel', async () => {
      await page.notebook.runCell(2);
      expect((await page.notebook.getCellTextOutput(2))!.join('')).toContain(
        'back in the kernel: 45'
      );
    });

    const detail = page.locator(`#containerjob-job-${id}`);
    await test.step('the job view shows logs, spec and output files', async () => {
      await page.activity.activateTab(new RegExp(id));
      await expect(detail.locator('.jp-ContainerJob-status')).toHaveText(
        'SUCCEEDED'
      );
      await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
        'total is 45'
      );
      await expect(detail.locator('.jp-ContainerJob-logState')).toHaveText(
        'End of logs.'
      );
      await expect(detail.locator('.jp-ContainerJob-facts')).toContainText(
        IMAGE
      );
      await expect(detail.locator('.jp-ContainerJob-spec')).toContainText(
        '"worker_pools"'
      );
      await expect(detail.locator('button[data-action="cancel"]')).toBeHidden(); // a finished job has nothing to cancel
      await expect(detail.locator('button[data-action="rerun"]')).toBeEnabled();
      await detail.screenshot({ path: path.join(ARTIFACTS, 'job-light.png') });
    });

    const panel = await openSidebar(page);
    await test.step('the sidebar lists the job under its notebook, and only there', async () => {
      const row = panel.locator(
        `.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
      );
      await expect(row).toHaveAttribute('data-status', 'SUCCEEDED');
      await expect(row).toContainText('cell 2');
      await expect(row.locator('.jp-ContainerJob-job-meta')).toContainText(
        `local · `
      );
      await expect(row.locator('.jp-ContainerJob-job-meta')).toContainText(
        IMAGE
      );
      await expect(
        panel.locator(`.jp-ContainerJob-allJobs [data-job-id="${id}"]`)
      ).toHaveCount(0);
      // The backend filter lists what the server has, by the server's labels.
      await expect(panel.locator('.jp-ContainerJob-filter option')).toHaveText([
        'All',
        'Local container (Docker)',
        'Vertex AI CustomJob',
        'Vertex AI Workbench Executor'
      ]);
      await panel.screenshot({
        path: path.join(ARTIFACTS, 'sidebar-light.png')
      });
      await page.theme.setDarkTheme();
      await panel.screenshot({
        path: path.join(ARTIFACTS, 'sidebar-dark.png')
      });
      await page.activity.activateTab(new RegExp(id));
      await detail.screenshot({ path: path.join(ARTIFACTS, 'job-dark.png') });
      await page.theme.setLightTheme();
    });

    await test.step('the cell metadata keeps the job and the options', async () => {
      await page.notebook.activate('cells.ipynb');
      const metadata = await page.evaluate(() =>
        (
          window as any
        ).jupyterapp.shell.currentWidget.content.widgets[1].model.getMetadata(
          'containerjob'
        )
      );
      expect(metadata).toEqual({
        options: { backend: 'local', image: IMAGE },
        jobs: [id]
      });
    });

    await test.step('after a kernel restart and reopening, the notebook still shows its job', async () => {
      await page.notebook.activate('cells.ipynb');
      await page.notebook.save();
      await page.notebook.close();
      await page.kernel.shutdownAll();
      await page.sidebar.openTab('filebrowser');
      await page.notebook.openByPath(`${tmpPath}/cells.ipynb`);
      await page.notebook.activate('cells.ipynb');
      const row = (await openSidebar(page)).locator(
        `.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
      );
      await expect(row).toHaveAttribute('data-status', 'SUCCEEDED');
    });
  });

  test('cancels a long job from the job view', async ({ page, tmpPath }) => {
    await openNotebook(page, tmpPath, 'long.ipynb', [
      {
        source:
          'import time\nprint("sleeping", flush=True)\ntime.sleep(60)\nprint("woke up")'
      }
    ]);
    await page.notebook.selectCells(0);

    await test.step('the cell context menu runs it', async () => {
      const cell = (await page.notebook.getCellLocator(0))!;
      await cell.locator('.jp-InputArea-editor').click({ button: 'right' });
      await page
        .locator('.lm-Menu')
        .getByText('Run cell in container', { exact: true })
        .click();
      const dialog = await launchForm(page);
      await dialog.locator('input[name="timeout"]').fill('5m');
      await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    });
    const { id, chip } = await announcedJob(page, 0);
    expect(await page.notebook.getCellTextInput(0)).toMatch(
      /^%%containerjob --backend local --image \S+ --timeout 5m\n/
    );

    const panel = await openSidebar(page);
    const row = panel.locator(
      `.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
    );
    await expect(row).toHaveAttribute('data-status', 'RUNNING', {
      timeout: 60000
    });
    await row.click();

    const detail = page.locator(`#containerjob-job-${id}`);
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      'sleeping',
      { timeout: 60000 }
    );
    await cancelFromPage(page, detail);

    await expect(detail.locator('.jp-ContainerJob-status')).toHaveText(
      'CANCELLED',
      { timeout: 60000 }
    );
    await expect(row).toHaveAttribute('data-status', 'CANCELLED');
    await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
      'CANCELLED'
    );
    await expect(
      page.locator('.Toastify__toast', { hasText: `Job ${id} cancelled` })
    ).toBeVisible();
    await expect(detail.locator('.jp-ContainerJob-logs')).not.toContainText(
      'woke up'
    );
    await panel.screenshot({
      path: path.join(ARTIFACTS, 'sidebar-cancelled-light.png')
    });
  });

  test('submits a cell to Vertex AI with the Vertex options as magic flags', async ({
    page,
    tmpPath
  }) => {
    // --dry-run: the kernel prints the request and sends nothing to Google.
    await openNotebook(page, tmpPath, 'vertex.ipynb', [
      { source: `%%containerjob --image ${IMAGE} --dry-run\nx = 1` }
    ]);
    await page.notebook.selectCells(0);
    await toolbarAction(page, 'Submit cell to Vertex AI');
    const dialog = await launchForm(page);
    await expect(dialog.locator('select[name="backend"]')).toHaveValue(
      'vertex'
    );
    await expect(dialog.locator('input[name="gpus"]')).toBeHidden();
    await expect(dialog.locator('input[name="rest"]')).toHaveValue('--dry-run');
    await dialog.locator('input[name="machine_type"]').fill('n1-standard-8');
    await dialog.locator('input[name="accelerator"]').fill('NVIDIA_TESLA_T4:1');
    await dialog
      .locator('input[name="staging_bucket"]')
      .fill('gs://cj-ui-bucket');
    await dialog.locator('textarea[name="env"]').fill('SEED=1\nMODE=fast');
    const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');

    await test.step('a malformed region is named under Region: nothing is written', async () => {
      await dialog.locator('input[name="region"]').fill('mars-central');
      await expect(
        dialog.locator(
          '.jp-ContainerJob-form-error[data-field="options.region"]'
        )
      ).toContainText("--region 'mars-central' is not a region name");
      await expect(accept).toBeDisabled();
      await dialog
        .locator('.jp-Dialog-content')
        .screenshot({ path: path.join(ARTIFACTS, 'form-vertex-light.png') });
      // Read from the model: the open dialog keeps the editor from focus.
      const source = await page.evaluate(() =>
        (
          window as any
        ).jupyterapp.shell.currentWidget.content.widgets[0].model.sharedModel.getSource()
      );
      expect(source).toBe(`%%containerjob --image ${IMAGE} --dry-run\nx = 1`);
    });

    await dialog.locator('input[name="region"]').fill('europe-west4');
    await expect(accept).toBeEnabled();
    await accept.click();
    expect(await page.notebook.getCellTextInput(0)).toBe(
      `%%containerjob --backend vertex --image ${IMAGE} --region europe-west4 ` +
        '--machine-type n1-standard-8 --accelerator NVIDIA_TESLA_T4:1 --staging-bucket gs://cj-ui-bucket ' +
        '--env SEED=1 --env MODE=fast --dry-run\nx = 1'
    );
    await page.notebook.waitForRun(0);
    const output = (await page.notebook.getCellTextOutput(0))!.join('');
    expect(output).toContain('n1-standard-8');
    expect(output).toContain('europe-west4');
  });

  test('the notebook forms offer the backends that run notebooks, with the fields each takes', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'forms.ipynb', [{ source: 'x = 1' }]);

    await test.step('the Executor form has no Image or Environment field', async () => {
      await toolbarAction(page, 'Submit notebook to Vertex AI Executor');
      const dialog = await launchForm(page);
      const backend = dialog.locator('select[name="backend"]');
      await expect(backend).toHaveValue('executor');
      // Vertex AI CustomJob runs no notebooks: not offered at all.
      await expect(backend.locator('option')).toHaveText([
        'Local container (Docker)',
        'Vertex AI Workbench Executor'
      ]);
      await expect(dialog.locator('input[name="image"]')).toBeHidden();
      await expect(dialog.locator('textarea[name="env"]')).toBeHidden();
      await expect(dialog.locator('input[name="machine_type"]')).toBeVisible();
      await dialog
        .locator('.jp-Dialog-content')
        .screenshot({ path: path.join(ARTIFACTS, 'form-executor-light.png') });
      await backend.selectOption('local');
      await expect(dialog.locator('input[name="image"]')).toBeVisible();
      await expect(dialog.locator('input[name="machine_type"]')).toBeHidden();
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
    });

    await test.step('an unavailable backend is shown disabled with the server reason', async () => {
      const reason = 'needs a staging bucket (CONTAINERJOB_STAGING_BUCKET)';
      const restore = await reportUnavailable(page, 'executor', reason);
      await toolbarAction(page, 'Submit notebook to Vertex AI Executor');
      const dialog = await launchForm(page);
      const executor = dialog.locator('option[value="executor"]');
      await expect(executor).toBeDisabled();
      await expect(executor).toHaveAttribute('title', reason);
      // The asked backend stays chosen, Submit held until another is picked.
      await expect(dialog.locator('select[name="backend"]')).toHaveValue(
        'executor'
      );
      await expect(
        dialog.locator('.jp-Dialog-button.jp-mod-accept')
      ).toBeDisabled();
      await expect(
        dialog.locator(
          '.jp-ContainerJob-form-warning li[data-backend="executor"]'
        )
      ).toHaveText(`Vertex AI Workbench Executor is unavailable: ${reason}`);
      await dialog.locator('.jp-Dialog-content').screenshot({
        path: path.join(ARTIFACTS, 'form-unavailable-light.png')
      });
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
      await restore();
    });
  });

  test('runs a whole notebook with a parameter, downloads its output and re-runs it', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'train.ipynb', [
      { source: 'epochs = 3  # how long to train', tags: ['parameters'] },
      {
        source:
          'import os\n' +
          'print("epochs", epochs, "project", os.environ.get("GOOGLE_CLOUD_PROJECT"))\n' +
          'open("result.txt", "w").write(str(epochs * 2))'
      }
    ]);
    await toolbarAction(page, 'Run notebook in container');
    const dialog = await launchForm(page);
    await expect(dialog.locator('.jp-ContainerJob-form-subject')).toHaveText(
      `Notebook ${tmpPath}/train.ipynb`
    );
    const epochs = dialog.locator('input[name="parameter:epochs"]');
    await expect(epochs).toHaveValue('3');
    await epochs.fill('7');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();

    // The job view opens on the new job.
    const detail = page.locator('.jp-ContainerJob-detail:visible');
    await expect(detail.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      { timeout: 120000 }
    );
    const id = (await detail.getAttribute('data-job-id'))!;
    expect(id).toMatch(/^cj-[0-9a-f]{8,32}$/);
    await expect(detail.locator('.jp-ContainerJob-detail-name')).toHaveText(
      `train ${id}`
    );
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      `epochs 7 project ${PROJECT}`
    );
    await expect(
      page.locator('.Toastify__toast', {
        hasText: `Job train (${id}) succeeded`
      })
    ).toBeVisible();

    const link = detail.locator('.jp-ContainerJob-outputs a', {
      hasText: /result\.txt$/
    });
    await expect(
      detail.locator('.jp-ContainerJob-outputs a', { hasText: /train\.ipynb$/ })
    ).toBeVisible();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      link.click()
    ]);
    expect(download.suggestedFilename()).toBe('result.txt');
    const stream = await download.createReadStream();
    let content = '';
    for await (const chunk of stream) {
      content += chunk;
    }
    expect(content).toBe('14');

    await detail.locator('button[data-action="rerun"]').click();
    const again = page.locator('.jp-ContainerJob-detail:visible');
    await expect(again).not.toHaveAttribute('data-job-id', id);
    await expect(again.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      { timeout: 120000 }
    );
    await expect(again.locator('.jp-ContainerJob-logs')).toContainText(
      'epochs 7'
    );
  });

  test('runs a container from the sidebar: its own program, arguments, logs and a re-run', async ({
    page
  }) => {
    const command = `python3 -c "print('hello from a container')"`;
    const posts: string[] = [];
    page.on('request', request => {
      if (request.method() === 'POST' && JOBS_ROUTE.test(request.url())) {
        posts.push(request.postData() ?? '');
      }
    });
    const panel = await openSidebar(page);
    await panel.locator('button[data-action="run-container"]').click();

    const dialog = await launchForm(page);
    await test.step('the form offers the backends and fields of container jobs', async () => {
      await expect(page.locator('.jp-Dialog-header')).toHaveText(
        'Run a container'
      );
      const backend = dialog.locator('select[name="backend"]');
      await expect(backend).toHaveValue('local');
      // The Workbench Executor runs notebooks only: not offered.
      await expect(backend.locator('option')).toHaveText([
        'Local container (Docker)',
        'Vertex AI CustomJob'
      ]);
      await expect(dialog.locator('input[name="command"]')).toHaveAttribute(
        'placeholder',
        "the image's ENTRYPOINT"
      );
      const args = dialog.locator('input[name="args"]');
      await expect(args).toHaveAttribute(
        'placeholder',
        "none: the image's CMD"
      );
      await expect(dialog.locator('textarea[name="env"]')).toBeVisible();
      await expect(dialog.locator('input[name="gpus"]')).toBeVisible();
      await expect(
        dialog.locator('input[name="runtime_template"]')
      ).toBeHidden();
      await backend.selectOption('vertex');
      await expect(dialog.locator('input[name="machine_type"]')).toBeVisible();
      await expect(dialog.locator('input[name="gpus"]')).toBeHidden();
      await expect(dialog.locator('input[name="command"]')).toBeVisible();
      await backend.selectOption('local');
      // Arguments follow the Command; no Python-only or notebook field.
      await expect(
        dialog.locator(
          '.jp-ContainerJob-form-row:visible .jp-ContainerJob-form-label'
        )
      ).toHaveText([
        'Backend',
        'CustomJob file',
        'Image',
        'Command',
        'Arguments',
        'GPUs',
        'Timeout',
        'Retries',
        'Retry on exit codes',
        'Environment',
        'Secret environment'
      ]);
      await dialog.locator('input[name="command"]').fill(command);
      // After a Command the image's CMD is dropped.
      await expect(args).toHaveAttribute('placeholder', 'none');
    });

    await test.step('an empty image is named under Image: nothing is sent', async () => {
      await dialog.locator('input[name="image"]').fill('');
      const problem = dialog.locator(
        '.jp-ContainerJob-form-error[data-field="options.image"]'
      );
      await expect(problem).toContainText('Image is required');
      await expect(
        dialog.locator('.jp-Dialog-button.jp-mod-accept')
      ).toBeDisabled();
      await dialog.locator('.jp-Dialog-content').screenshot({
        path: path.join(ARTIFACTS, 'form-container-problem-light.png')
      });
      await dialog.locator('input[name="image"]').fill(IMAGE);
      await expect(problem).toBeHidden();
      await expect(dialog.locator('input[name="command"]')).toHaveValue(
        command
      );
      expect(posts).toEqual([]);
    });

    await test.step('Arguments the server cannot split are named under Arguments: nothing is sent', async () => {
      await dialog.locator('input[name="args"]').fill(`'one arg`);
      const problem = dialog.locator(
        '.jp-ContainerJob-form-error[data-field="args_text"]'
      );
      await expect(problem).toContainText(
        'cannot be split into words (no closing quotation); close the quote'
      );
      await expect(
        dialog.locator('.jp-Dialog-button.jp-mod-accept')
      ).toBeDisabled();
      expect(posts).toEqual([]);
    });

    await test.step('the image, command and one argument go to POST jobs', async () => {
      await dialog.locator('input[name="args"]').fill(`'one arg'`);
      await dialog
        .locator('.jp-Dialog-content')
        .screenshot({ path: path.join(ARTIFACTS, 'form-container-light.png') });
      await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
      await expect(page.locator('.jp-Dialog')).toHaveCount(0);
      await expect.poll(() => posts.length).toBe(1);
      expect(JSON.parse(posts[0])).toEqual({
        kind: 'container',
        options: { backend: 'local', image: IMAGE, command },
        args_text: `'one arg'` // split by the server, as --command is
      });
    });

    // The job view opens on the new job.
    const detail = page.locator('.jp-ContainerJob-detail:visible');
    const id = (await detail.getAttribute('data-job-id'))!;
    expect(id).toMatch(/^cj-[0-9a-f]{8,32}$/);
    const row = panel.locator(`.jp-ContainerJob-allJobs [data-job-id="${id}"]`);
    await test.step('the list shows the job until it succeeds', async () => {
      await expect(row).toHaveAttribute('data-status', 'SUCCEEDED', {
        timeout: 120000
      });
      await expect(row.locator('.jp-ContainerJob-job-meta')).toContainText(
        `local · `
      );
      await expect(row.locator('.jp-ContainerJob-job-meta')).toContainText(
        IMAGE
      );
      await panel.screenshot({
        path: path.join(ARTIFACTS, 'sidebar-container-light.png')
      });
    });

    await test.step('its view shows the logs, the command and the arguments', async () => {
      await row.click();
      const view = page.locator(`#containerjob-job-${id}`);
      await expect(view.locator('.jp-ContainerJob-status')).toHaveText(
        'SUCCEEDED'
      );
      await expect(view.locator('.jp-ContainerJob-logs')).toContainText(
        'hello from a container'
      );
      await expect(view.locator('.jp-ContainerJob-logState')).toHaveText(
        'End of logs.'
      );
      const fact = (label: string) =>
        view
          .locator('.jp-ContainerJob-facts dt', { hasText: label })
          .locator('xpath=following-sibling::dd[1]');
      await expect(fact('Command')).toHaveText(command);
      await expect(fact('Arguments')).toHaveText(`'one arg'`);
      await expect(view.locator('.jp-ContainerJob-spec')).toContainText(
        '"kind": "container"'
      );
      await view.screenshot({
        path: path.join(ARTIFACTS, 'job-container-light.png')
      });
    });

    await test.step('a re-run sends the same request again', async () => {
      const view = page.locator(`#containerjob-job-${id}`);
      await view.locator('button[data-action="rerun"]').click();
      const again = page.locator('.jp-ContainerJob-detail:visible');
      await expect(again).not.toHaveAttribute('data-job-id', id);
      await expect(again.locator('.jp-ContainerJob-status')).toHaveText(
        'SUCCEEDED',
        { timeout: 120000 }
      );
      await expect(again.locator('.jp-ContainerJob-logs')).toContainText(
        'hello from a container'
      );
      expect(posts).toHaveLength(2);
      expect(JSON.parse(posts[1])).toEqual(JSON.parse(posts[0]));
    });
  });

  test('schedules a notebook with a parameter, pauses and deletes the schedule', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'report.ipynb', [
      { source: 'epochs = 3  # how long to train', tags: ['parameters'] },
      { source: 'print(epochs)' }
    ]);
    await toolbarAction(page, 'Schedule notebook…');
    const dialog = await launchForm(page);
    await expect(dialog.locator('input[name="name"]')).toHaveValue('report');
    const epochs = dialog.locator('input[name="parameter:epochs"]');
    await expect(epochs).toHaveValue('3');
    await epochs.fill('5');
    await dialog.locator('input[name="cron"]').fill('0 3 * * *');
    await dialog.locator('input[name="timezone"]').fill('UTC');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(page.locator('.jp-Dialog')).toContainText('runs');
    await page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-accept').click();

    const panel = await openSidebar(page);
    const schedule = panel.locator('.jp-ContainerJob-schedule', {
      hasText: 'report'
    });
    await expect(schedule).toHaveAttribute('data-state', 'ACTIVE');
    await expect(schedule).toContainText('At 03:00 (UTC)');
    await expect(schedule.locator('.jp-ContainerJob-cron')).toHaveText(
      '0 3 * * *'
    );
    await schedule.getByRole('button', { name: 'Pause' }).click();
    await expect(schedule).toHaveAttribute('data-state', 'PAUSED');
    await panel.screenshot({
      path: path.join(ARTIFACTS, 'sidebar-schedule-light.png')
    });
    await schedule.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-warn').click();
    await expect(
      panel.locator('.jp-ContainerJob-schedule', { hasText: 'report' })
    ).toHaveCount(0);
  });
  test('the quickstart cell: the form starts from its own line and keeps every option', async ({
    page,
    tmpPath
  }) => {
    const code = 'import os\nprint("greeting is", os.environ["GREETING"])';
    await openNotebook(page, tmpPath, 'quickstart.ipynb', [
      {
        source: `%%containerjob --name quickstart --env GREETING=hello\n${code}`
      }
    ]);
    await page.notebook.selectCells(0);
    await toolbarAction(page, 'Run cell in container');
    const dialog = page.locator('.jp-Dialog');

    await test.step('the fields show the line, Other flags keeps what they do not show', async () => {
      await expect(dialog.locator('select[name="backend"]')).toHaveValue(
        'local'
      );
      await expect(dialog.locator('textarea[name="env"]')).toHaveValue(
        'GREETING=hello'
      );
      await expect(dialog.locator('input[name="rest"]')).toHaveValue(
        '--name quickstart'
      );
      // Not on the line: the server's default, as a value marked "default".
      await expect(dialog.locator('input[name="image"]')).toHaveValue(
        /^python:3\.\d+-slim$/
      );
      await expect(
        dialog
          .locator('.jp-ContainerJob-form-row', {
            has: page.locator('input[name="image"]')
          })
          .locator('.jp-ContainerJob-form-default')
      ).toBeVisible();
      await expect(
        dialog.locator('.jp-ContainerJob-form-error:visible')
      ).toHaveCount(0);
      await dialog.locator('.jp-Dialog-content').screenshot({
        path: path.join(ARTIFACTS, 'form-quickstart-light.png')
      });
    });

    await test.step('moving to a backend and back loses no word', async () => {
      const backend = dialog.locator('select[name="backend"]');
      await dialog.locator('input[name="gpus"]').fill('1');
      await backend.selectOption('vertex');
      await expect(dialog.locator('input[name="rest"]')).toHaveValue(
        '--gpus 1 --name quickstart'
      );
      await expect(
        dialog.locator('.jp-ContainerJob-form-error[data-field="rest"]')
      ).toContainText('--gpus is for local runs');
      await backend.selectOption('local');
      await expect(dialog.locator('input[name="gpus"]')).toHaveValue('1');
      await dialog.locator('input[name="gpus"]').fill('');
      await expect(dialog.locator('input[name="rest"]')).toHaveValue(
        '--name quickstart'
      );
    });

    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    expect(await page.notebook.getCellTextInput(0)).toBe(
      `%%containerjob --backend local --env GREETING=hello --name quickstart\n${code}`
    );
    const { chip } = await announcedJob(page, 0);
    await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      { timeout: 120000 }
    );
    await page.notebook.waitForRun(0);
    const output = (await page.notebook.getCellTextOutput(0))!.join('');
    expect(output).toContain('greeting is hello');
    expect(output).not.toContain('KeyError');
    await (await page.notebook.getCellLocator(0))!.screenshot({
      path: path.join(ARTIFACTS, 'cell-quickstart-light.png')
    });
  });

  test('the forms name every bad field at once, next to it, before anything runs', async ({
    page,
    tmpPath
  }) => {
    const posts: string[] = [];
    page.on('request', request => {
      if (
        request.method() === 'POST' &&
        /\/containerjob\/(jobs|schedules)(\?|$)/.test(request.url())
      ) {
        posts.push(request.url());
      }
    });
    await openNotebook(page, tmpPath, 'checks.ipynb', [
      { source: 'epochs = 3', tags: ['parameters'] },
      { source: 'x = 1' }
    ]);

    await test.step('the cell form: GPUs, Timeout and Image together; the cell is not touched', async () => {
      await page.notebook.selectCells(1);
      await toolbarAction(page, 'Run cell in container');
      const dialog = await launchForm(page);
      await dialog.locator('input[name="gpus"]').fill('lots');
      await dialog.locator('input[name="timeout"]').fill('soon');
      await dialog.locator('input[name="image"]').fill('my image');
      const problem = (field: string) =>
        dialog.locator(
          `.jp-ContainerJob-form-error[data-field="options.${field}"]`
        );
      await expect(problem('gpus')).toHaveText(
        "--gpus 'lots' is not a number: use --gpus N (N >= 1) or --gpus all"
      );
      await expect(problem('timeout')).toContainText(
        "--timeout 'soon' is not a positive duration"
      );
      await expect(problem('image')).toContainText('contains whitespace');
      const accept = dialog.locator('.jp-Dialog-button.jp-mod-accept');
      await expect(accept).toBeDisabled();
      await dialog
        .locator('.jp-Dialog-content')
        .screenshot({ path: path.join(ARTIFACTS, 'form-problems-light.png') });
      // Enter submits a Dialog whatever its button says: refused again, in place.
      await dialog.locator('input[name="timeout"]').press('Enter');
      await expect(problem('gpus')).toBeVisible();
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
      expect(await page.notebook.getCellTextInput(1)).toBe('x = 1');
    });

    await test.step('the schedule form: Max concurrent "two" is refused, not saved as 1', async () => {
      await toolbarAction(page, 'Schedule notebook…');
      const dialog = await launchForm(page);
      await dialog.locator('input[name="max_concurrent"]').fill('two');
      await dialog.locator('input[name="parameter:epochs"]').fill('many');
      await dialog.locator('input[name="cron"]').fill('every day');
      await expect(
        dialog.locator(
          '.jp-ContainerJob-form-error[data-field="max_concurrent"]'
        )
      ).toHaveText("field 'max_concurrent' must be a whole number, not 'two'");
      await expect(
        dialog.locator(
          '.jp-ContainerJob-form-error[data-field="parameters.epochs"]'
        )
      ).toHaveText('parameter epochs: "many" is not an int, e.g. 3');
      await expect(
        dialog.locator('.jp-ContainerJob-form-error[data-field="cron"]')
      ).toContainText("--cron 'every day' is not a 5-field cron expression");
      await expect(
        dialog.locator('.jp-Dialog-button.jp-mod-accept')
      ).toBeDisabled();
      await dialog.locator('.jp-Dialog-content').screenshot({
        path: path.join(ARTIFACTS, 'form-schedule-problems-light.png')
      });
      await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
      const panel = await openSidebar(page);
      await expect(panel.locator('.jp-ContainerJob-schedule')).toHaveCount(0);
    });
    expect(posts).toEqual([]);
  });
});
