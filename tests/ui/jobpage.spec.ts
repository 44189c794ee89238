/**
 * The job page and the launch forms' backends in a real JupyterLab whose
 * jobs run in real local containers: one reused job tab restored after a
 * reload, "Go to cell", the cell's code and its options as typed (the
 * spec's JSON behind a toggle), the executed notebook opened, a re-run that
 * asks first and runs in a new cell below, "Cancel job" (asking once the
 * job has run a while, none on a finished job, "cancelled by the user" in
 * the record and the log), Re-run's reason when it cannot, and a backend
 * that cannot run disabled with its reason. Screenshots light and dark,
 * 1280 and 900 px.
 */
import {
  IJupyterLabPageFixture,
  expect,
  galata,
  test
} from '@jupyterlab/galata';

import type { Locator } from '@playwright/test';

import {
  IMAGE,
  announcedJob,
  cancelFromPage,
  launchForm,
  openNotebook,
  reportUnavailable,
  shots,
  toolbarAction
} from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'containerjob:plugin': { image: IMAGE }
  }
});

const PAGE = '#containerjob-job-page';

async function openJob(page: IJupyterLabPageFixture, id: string) {
  await page.evaluate(
    id =>
      (window as any).jupyterapp.commands.execute('containerjob:open-job', {
        id
      }),
    id
  );
}

/** The main-area tabs showing a job page. */
function jobTabs(page: IJupyterLabPageFixture): Locator {
  return page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', {
    hasText: /cj-[0-9a-f]+/
  });
}

async function activeCell(
  page: IJupyterLabPageFixture
): Promise<[string, number]> {
  return page.evaluate(() => {
    const widget = (window as any).jupyterapp.shell.currentWidget;
    return [widget.context.path, widget.content.activeCellIndex];
  });
}

test('one job tab: go to cell, the local spec, re-run in place, restored after a reload', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'page.ipynb', [
    { source: '%load_ext containerjob' },
    { source: `%%containerjob --image ${IMAGE}\nprint("first job")` },
    { source: `%%containerjob --image ${IMAGE}\nprint("second job")` }
  ]);
  for (const i of [0, 1, 2]) {
    await page.notebook.runCell(i);
  }
  const first = await announcedJob(page, 1);
  const second = await announcedJob(page, 2);
  for (const { chip } of [first, second]) {
    await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      {
        timeout: 120000
      }
    );
  }
  await page.notebook.save();
  const detail = page.locator(`${PAGE} .jp-ContainerJob-detail`);

  await test.step("the cell's code and its options as typed; the JSON behind a toggle", async () => {
    await openJob(page, first.id);
    await expect(detail).toHaveAttribute('data-job-id', first.id);
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      'first job'
    );
    await expect(detail.locator('.jp-ContainerJob-code')).toHaveText(
      'print("first job")'
    );
    const options = detail.locator('.jp-ContainerJob-options');
    await expect(options).toHaveText(
      `--image ${IMAGE} --project containerjob-ui-test --backend local`
    );
    const spec = detail.locator('.jp-ContainerJob-spec');
    await expect(spec).toBeHidden(); // nothing internal up front
    expect(await detail.innerText()).not.toContain('display_name'); // what shows, not the closed JSON
    await shots(page, page.locator(PAGE), 'jobpage-finished');
    await detail.locator('.jp-ContainerJob-specJson summary').click();
    await expect(spec).toBeVisible();
    await expect(spec).toContainText(`"image": "${IMAGE}"`);
    await expect(spec).not.toContainText('machine_type');
    await expect(spec).not.toContainText('boot_disk_size_gb');
    await expect(spec).not.toContainText('staging_bucket');
    await shots(page, page.locator(PAGE), 'jobpage');
  });

  await test.step('opening another job reuses the one tab', async () => {
    await openJob(page, second.id);
    await expect(detail).toHaveAttribute('data-job-id', second.id);
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      'second job'
    );
    await openJob(page, first.id);
    await expect(detail).toHaveAttribute('data-job-id', first.id);
    await expect(jobTabs(page)).toHaveCount(1);
    await expect(page.locator('.jp-ContainerJob-detail')).toHaveCount(1);
  });

  await test.step('Go to cell selects the cell that launched the job', async () => {
    await page.notebook.activate('page.ipynb');
    await page.notebook.selectCells(0);
    await page.activity.activateTab(new RegExp(first.id));
    const go = detail.locator('button[data-action="origin"]');
    await expect(go).toHaveText('Go to cell');
    await go.click();
    await expect
      .poll(() => activeCell(page))
      .toEqual([`${tmpPath}/page.ipynb`, 1]);
  });

  await test.step('from a closed notebook too: it opens on the cell its metadata names', async () => {
    await page.notebook.close();
    await openJob(page, second.id);
    // Re-run says what is missing: the open notebook whose cell ran it.
    const rerun = detail.locator('button[data-action="rerun"]');
    await expect(rerun).toBeDisabled();
    await expect(rerun).toHaveAttribute(
      'title',
      /^A cell job re-runs from its cell, and no open notebook's cell records cj-[0-9a-f]+: open page\.ipynb \("Go to cell"\)/
    );
    await detail.locator('button[data-action="origin"]').click();
    await expect
      .poll(() => activeCell(page))
      .toEqual([`${tmpPath}/page.ipynb`, 2]);
  });

  let rerun = '';
  await test.step('Re-run of a cell job asks; it runs in a new cell below by default', async () => {
    await openJob(page, second.id);
    const button = detail.locator('button[data-action="rerun"]');
    await expect(button).toBeEnabled();
    await button.click();
    const ask = page.locator('.jp-Dialog');
    await expect(ask.locator('.jp-Dialog-header')).toHaveText(
      `Re-run job ${second.id}?`
    );
    await expect(ask.locator('.jp-Dialog-body')).toContainText(
      /runs the code of cell 3 of (\S+\/)?page\.ipynb again in the notebook's kernel/
    );
    await expect(ask.locator('.jp-Dialog-body')).toContainText(
      'The variables it brings back are assigned again'
    );
    await shots(page, ask.locator('.jp-Dialog-content'), 'jobpage-rerun-ask');
    // Cancel: nothing runs and nothing changes.
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await expect(ask).toHaveCount(0);
    await expect(detail).toHaveAttribute('data-job-id', second.id);
    await button.click();
    // The default (Enter) is "Run in a new cell below".
    await expect(
      ask.getByRole('button', { name: 'Run in a new cell below' })
    ).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(detail).not.toHaveAttribute('data-job-id', second.id, {
      timeout: 60000
    });
    rerun = (await detail.getAttribute('data-job-id'))!;
    expect(rerun).toMatch(/^cj-[0-9a-f]{8,32}$/);
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      'second job',
      {
        timeout: 120000
      }
    );
    await expect(jobTabs(page)).toHaveCount(1);
    // The original cell keeps its output; the copy below ran the new job.
    await page.notebook.activate('page.ipynb');
    const original = await announcedJob(page, 2);
    expect(original.id).toBe(second.id);
    const copy = await announcedJob(page, 3);
    expect(copy.id).toBe(rerun);
  });

  await test.step('a reload restores the job page on the same job', async () => {
    // Not page.reload(): galata's wait after it expects the Launcher in front; the restored job page is.
    await Promise.all([
      page.waitForEvent('load'),
      page.evaluate(() => window.location.reload())
    ]);
    await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
    await expect(
      page.locator(`${PAGE} .jp-ContainerJob-detail`)
    ).toHaveAttribute('data-job-id', rerun, { timeout: 60000 });
    await expect(jobTabs(page)).toHaveCount(1);
  });
});

test('Cancel job: asks once the job ran a while, says the user cancelled, none when finished', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'long.ipynb', [
    { source: '%load_ext containerjob' },
    {
      source: `%%containerjob --image ${IMAGE}\nimport time\nprint("sleeping", flush=True)\ntime.sleep(300)`
    }
  ]);
  await page.notebook.runCell(0);
  void page.notebook.runCell(1); // returns when the job ends
  const { id } = await announcedJob(page, 1);
  await openJob(page, id);
  const detail = page.locator(`${PAGE} .jp-ContainerJob-detail`);
  await expect(detail).toHaveAttribute('data-job-id', id);
  const cancel = detail.locator('button[data-action="cancel"]');
  await expect(cancel).toHaveText('Cancel job');
  await expect(cancel).toBeVisible();
  await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
    'sleeping',
    { timeout: 60000 }
  );
  // Past CONFIRM_AFTER_S (5 s, confirmcancel.ts) of running, a cancel asks first.
  await page.waitForTimeout(6000);
  await shots(page, page.locator(PAGE), 'jobpage-running');
  await cancel.click();
  const ask = page.locator('.jp-Dialog');
  await expect(ask.locator('.jp-Dialog-header')).toHaveText('Cancel job?');
  await expect(ask.locator('.jp-Dialog-body')).toContainText(
    new RegExp(`\\(${id}\\) has run for \\d+(\\.\\d)?s\\. Cancelling stops it`)
  );
  await shots(page, ask.locator('.jp-Dialog-content'), 'jobpage-cancel-ask');
  await ask.getByRole('button', { name: 'Keep running' }).click();
  await expect(ask).toHaveCount(0);
  await expect(detail.locator('.jp-ContainerJob-status')).toHaveText('RUNNING');
  await cancel.click();
  await ask.getByRole('button', { name: 'Cancel job' }).click();
  await expect(detail.locator('.jp-ContainerJob-status')).toHaveText(
    'CANCELLED',
    { timeout: 60000 }
  );
  await expect(
    detail.locator('.jp-ContainerJob-message').first()
  ).toContainText('cancelled by the user');
  await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
    'stopped: cancelled by the user',
    { timeout: 30000 }
  );
  await expect(detail.locator('.jp-ContainerJob-logs')).not.toContainText(
    'Docker engine'
  );
  await expect(cancel).toBeHidden(); // a finished job has nothing to cancel
  await shots(page, page.locator(PAGE), 'jobpage-cancelled');
});

test('a job this JupyterLab did not submit says why it cannot be re-run', async ({
  page,
  request
}) => {
  const response = await request.post('/containerjob/jobs', {
    data: {
      kind: 'cell',
      source: 'import time\ntime.sleep(300)',
      options: { image: IMAGE }
    }
  });
  expect(response.status()).toBe(201);
  const { id } = await response.json();
  await openJob(page, id);
  const detail = page.locator(`${PAGE} .jp-ContainerJob-detail`);
  await expect(detail).toHaveAttribute('data-job-id', id);
  const rerun = detail.locator('button[data-action="rerun"]');
  await expect(rerun).toBeDisabled();
  await expect(rerun).toHaveAttribute(
    'title',
    'This cell job was started outside an open notebook (a kernel of its own, or another JupyterLab): run its cell again where it ran.'
  );
  const cancel = detail.locator('button[data-action="cancel"]');
  await expect(cancel).toBeVisible();
  await cancelFromPage(page, detail); // a young job's cancel asks nothing: not timed here (start times vary)
});

test('the executed notebook of a notebook job opens in JupyterLab', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'report.ipynb', [
    { source: 'print("rows", 6 * 7)' }
  ]);
  await toolbarAction(page, 'Run notebook in container');
  const dialog = await launchForm(page);
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  const detail = page.locator(`${PAGE} .jp-ContainerJob-detail`);
  await expect(detail.locator('.jp-ContainerJob-status')).toHaveText(
    'SUCCEEDED',
    {
      timeout: 120000
    }
  );
  const id = (await detail.getAttribute('data-job-id'))!;
  await expect(detail.locator('button[data-action="origin"]')).toHaveText(
    'Open report.ipynb'
  );
  const open = detail.locator(
    '.jp-ContainerJob-outputs button[data-action="open-notebook"]'
  );
  await expect(open).toHaveCount(1);
  await open.click();
  const name = `report-executed-${id}.ipynb`;
  await expect(
    page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')
  ).toContainText(name);
  await expect(
    page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')
  ).toContainText('rows 42');
  expect(await page.contents.fileExists(`${tmpPath}/${name}`)).toBe(true);
});

test('a backend that cannot run is disabled with its reason, and holds Run', async ({
  page,
  tmpPath
}) => {
  const reason = 'cannot reach the Docker engine (is it running?)';
  await openNotebook(page, tmpPath, 'down.ipynb', [{ source: 'x = 1' }]);
  const restore = await reportUnavailable(page, 'local', reason);
  await page.notebook.selectCells(0);
  await toolbarAction(page, 'Run cell in container');
  const dialog = await launchForm(page);
  const select = dialog.locator('select[name="backend"]');
  // The asked backend stays chosen: never a silent switch to another one.
  await expect(select).toHaveValue('local');
  const local = select.locator('option[value="local"]');
  await expect(local).toBeDisabled();
  await expect(local).toHaveText(
    `Local container (Docker) — unavailable: ${reason}`
  );
  const run = dialog.locator('.jp-Dialog-button.jp-mod-accept');
  await expect(run).toBeDisabled();
  await expect(dialog.locator('.jp-ContainerJob-form-held')).toHaveText(
    `Run is disabled: Local container (Docker) is unavailable: ${reason}; pick another backend, or fix it and open the form again`
  );
  await shots(page, dialog.locator('.jp-Dialog-content'), 'form-unavailable');
  await select.selectOption('vertex');
  await expect(run).toBeEnabled();
  await expect(dialog.locator('.jp-ContainerJob-form-held')).toBeHidden();
  await dialog.locator('.jp-Dialog-button.jp-mod-reject').click();
  await restore();
});
