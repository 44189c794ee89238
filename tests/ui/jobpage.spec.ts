/**
 * The job page and the launch forms' backends in a real JupyterLab whose
 * jobs run in real local containers: one reused job tab restored after a
 * reload, "Go to cell", the spec as the job's backend uses it, the executed
 * notebook opened, a re-run shown in place, and a backend that cannot run
 * disabled with its reason. Screenshots light and dark, 1440 and 900 px.
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

  await test.step("a local job's spec has only what a local run uses", async () => {
    await openJob(page, first.id);
    await expect(detail).toHaveAttribute('data-job-id', first.id);
    await expect(detail.locator('.jp-ContainerJob-logs')).toContainText(
      'first job'
    );
    const spec = detail.locator('.jp-ContainerJob-spec');
    await expect(spec).toContainText(`"image": "${IMAGE}"`);
    await expect(spec).not.toContainText('machine_type');
    await expect(spec).not.toContainText('boot_disk_size_gb');
    await expect(spec).not.toContainText('staging_bucket');
    await detail.locator('summary').click();
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
    await detail.locator('button[data-action="origin"]').click();
    await expect
      .poll(() => activeCell(page))
      .toEqual([`${tmpPath}/page.ipynb`, 2]);
  });

  let rerun = '';
  await test.step('Re-run shows the new job on the same page', async () => {
    await openJob(page, second.id);
    await detail.locator('button[data-action="rerun"]').click();
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
