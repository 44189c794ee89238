/**
 * Live time and the jobs view, in a real JupyterLab whose jobs run in real
 * local containers: a running job's time ticks (chip, sidebar, job page) and
 * its replicas show; the sidebar is one list without duplicates; the jobs
 * table sorts, searches, deletes and bulk-deletes; a cell job that failed
 * before it started is listed under its notebook and cell; Cancel is a
 * labelled button, confirmed once the job has run; container jobs are named
 * by image and command. Screenshots of the sidebar, the table and the job
 * page in light and dark, 1440 (1280 for the newer ones) and 900 px.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import type { APIRequestContext, Locator } from '@playwright/test';

import {
  IMAGE,
  SIDEBAR,
  announcedJob,
  cancelFromPage,
  openNotebook,
  openSidebar,
  shots
} from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'containerjob:plugin': { image: IMAGE }
  }
});

/** Seconds in a shown duration (`4.2s`, `45s`, `3m 05s`). */
function seconds(text: string): number {
  const m = /(?:(\d+)m )?(\d+(?:\.\d)?)s/.exec(text);
  expect(m, `"${text}" is a duration`).not.toBeNull();
  return Number(m![1] ?? 0) * 60 + Number(m![2]);
}

/** The duration `node` shows, once it shows one. */
async function shown(node: Locator): Promise<number> {
  await expect(node).toHaveText(/\d+(\.\d)?s/, { timeout: 120000 });
  return seconds((await node.textContent())!);
}

/** The shown time grows between two reads (the page ticks on its own). */
async function ticks(node: Locator): Promise<void> {
  const first = await shown(node);
  await expect
    .poll(async () => seconds((await node.textContent())!), {
      timeout: 15000
    })
    .toBeGreaterThan(first);
}

/** A job submitted through the REST API, as a notebook would. */
async function submit(
  request: APIRequestContext,
  source: string,
  options: Record<string, unknown>
): Promise<string> {
  const response = await request.post('/containerjob/jobs', {
    data: {
      kind: 'cell',
      source,
      origin: 'elsewhere/other.ipynb',
      options: { backend: 'local', image: IMAGE, ...options }
    }
  });
  expect(response.status()).toBe(201);
  return (await response.json()).id;
}

test.describe('live time and the jobs view', () => {
  test('a running 2-replica job ticks in the cell, the sidebar and its page, which shows its replicas', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'ticking.ipynb', [
      { source: '%load_ext containerjob' },
      {
        source: `%%containerjob --backend local --image ${IMAGE} --replicas 2\nimport time\nprint("up", flush=True)\ntime.sleep(300)`
      }
    ]);
    await page.notebook.runCell(0);
    await page.notebook.selectCells(1);
    await page.keyboard.press('Control+Enter'); // runs on; the kernel waits for the job
    const { id, chip } = await announcedJob(page, 1);

    await test.step('the cell chip shows it running and its time ticks', async () => {
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'RUNNING',
        { timeout: 120000 }
      );
      await expect(
        chip.locator('.jp-ContainerJob-status .jp-ContainerJob-activity')
      ).toHaveCount(1);
      await ticks(chip.locator('[data-role="duration"]'));
    });

    const panel = await openSidebar(page);
    const row = panel.locator(
      `.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
    );
    await test.step('the sidebar row ticks, with a readable name and a pulse', async () => {
      await expect(row).toHaveAttribute('data-status', 'RUNNING');
      await expect(row.locator('.jp-ContainerJob-job-name')).toContainText(
        'ticking.ipynb · cell 2: import time'
      );
      await expect(row.locator('.jp-ContainerJob-activity')).toHaveCount(1);
      await expect(row.locator('.jp-ContainerJob-status')).toHaveAttribute(
        'title',
        /^Running/
      );
      await ticks(row.locator('.jp-ContainerJob-duration'));
      await shots(page, panel, 'jobsview-sidebar-running');
    });

    await row.click();
    const detail = page.locator(`.jp-ContainerJob-detail[data-job-id="${id}"]`);
    await test.step('the job page ticks and lists both replicas running', async () => {
      await ticks(detail.locator('dd.jp-ContainerJob-duration'));
      const replicas = detail.locator('.jp-ContainerJob-replicas');
      await expect(
        replicas.locator('.jp-ContainerJob-sectionTitle')
      ).toHaveText('Replicas (2)');
      await expect(replicas.locator('tbody tr')).toHaveCount(2);
      for (const name of ['workerpool0-0', 'workerpool1-0']) {
        await expect(
          replicas.locator(`tr[data-replica="${name}"]`)
        ).toHaveAttribute('data-state', 'RUNNING', { timeout: 60000 });
      }
      await shots(page, detail, 'jobsview-replicas-running');
    });

    await test.step('cancelled, each replica says it was stopped as the job ended', async () => {
      await cancelFromPage(page, detail);
      await expect(
        detail.locator('.jp-ContainerJob-status').first()
      ).toHaveText('CANCELLED', { timeout: 60000 });
      const replicas = detail.locator('.jp-ContainerJob-replicas');
      for (const name of ['workerpool0-0', 'workerpool1-0']) {
        const line = replicas.locator(`tr[data-replica="${name}"]`);
        await expect(line).toHaveAttribute('data-state', 'CANCELLED');
        await expect(line).toContainText('stopped as the job ended');
      }
      await expect(chip.locator('.jp-ContainerJob-activity')).toHaveCount(0);
    });
  });

  test('one sidebar list without duplicates; the table sorts, searches, deletes and bulk-deletes', async ({
    page,
    request,
    tmpPath
  }) => {
    // The server is shared with the other tests: this one starts with no job.
    const before = await request.get('/containerjob/jobs?limit=1000');
    for (const { id } of (await before.json()).jobs) {
      expect((await request.delete(`/containerjob/jobs/${id}`)).status()).toBe(
        204
      );
    }
    await openNotebook(page, tmpPath, 'jobs.ipynb', [
      { source: '%load_ext containerjob' },
      { source: `%%containerjob --backend local --image ${IMAGE}\nx = 1` }
    ]);
    await page.notebook.runCell(0);
    await page.notebook.selectCells(1);
    await page.keyboard.press('Control+Enter');
    const { id: mine, chip } = await announcedJob(page, 1);
    await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
      'SUCCEEDED',
      { timeout: 120000 }
    );
    const alpha = await submit(request, 'print("a")', { name: 'alpha' });
    const charlie = await submit(request, 'print("c")', { name: 'charlie' });
    const bravo = await submit(request, 'print("b")', { name: 'bravo' });
    const delta = await submit(request, 'import time; time.sleep(300)', {
      name: 'delta'
    });

    const panel = await openSidebar(page);
    await test.step('the notebook job is listed once, under its notebook; the others once, below', async () => {
      await expect(panel.locator(`[data-job-id="${mine}"]`)).toHaveCount(1);
      await expect(
        panel.locator(`.jp-ContainerJob-notebookJobs [data-job-id="${mine}"]`)
      ).toContainText('jobs.ipynb · cell 2: x = 1');
      for (const id of [alpha, bravo, charlie, delta]) {
        await expect(
          panel.locator(`.jp-ContainerJob-allJobs [data-job-id="${id}"]`)
        ).toHaveCount(1);
      }
      await expect(panel.locator('.jp-ContainerJob-job')).toHaveCount(5);
    });

    await test.step('the backend filter applies to both parts', async () => {
      await panel.locator('.jp-ContainerJob-filter').selectOption('vertex');
      await expect(panel.locator('.jp-ContainerJob-job')).toHaveCount(0);
      await panel.locator('.jp-ContainerJob-filter').selectOption('local');
      await expect(panel.locator('.jp-ContainerJob-job')).toHaveCount(5);
      await panel.locator('.jp-ContainerJob-filter').selectOption('');
    });

    await panel.locator('button[data-action="open-table"]').click();
    const table = page.locator('.jp-ContainerJob-table');
    await expect(table).toBeVisible();
    const names = table.locator('tbody [data-role="name"]');
    await test.step('every job once; sorted by name both ways', async () => {
      await expect(table.locator('tbody tr')).toHaveCount(5);
      await table.locator('th[data-sort="name"] button').click();
      await expect(table.locator('th[data-sort="name"]')).toHaveAttribute(
        'aria-sort',
        'ascending'
      );
      await expect(names).toHaveText([
        'alpha',
        'bravo',
        'charlie',
        'delta',
        'jobs.ipynb · cell 2: x = 1'
      ]);
      await table.locator('th[data-sort="name"] button').click();
      await expect(names).toHaveText([
        'jobs.ipynb · cell 2: x = 1',
        'delta',
        'charlie',
        'bravo',
        'alpha'
      ]);
      await expect(
        table.locator(`tr[data-job-id="${delta}"] .jp-ContainerJob-activity`)
      ).toHaveCount(1);
      await shots(
        page,
        page.locator('#containerjob-jobs-table'),
        'jobsview-table'
      );
    });

    await test.step('the search matches name, id, image and origin', async () => {
      const search = table.locator('input[type="search"]');
      await search.fill('bravo');
      await expect(names).toHaveText(['bravo']);
      await search.fill(mine);
      await expect(names).toHaveText(['jobs.ipynb · cell 2: x = 1']);
      await search.fill('elsewhere/other');
      await expect(table.locator('tbody tr')).toHaveCount(4);
      await search.fill('');
      await expect(table.locator('tbody tr')).toHaveCount(5);
    });

    await test.step('delete one row, confirmed', async () => {
      await table
        .locator(`tr[data-job-id="${alpha}"] button[data-action="delete"]`)
        .click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toContainText('Delete this job?');
      await expect(dialog).toContainText(`alpha (${alpha})`);
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await expect(table.locator(`tr[data-job-id="${alpha}"]`)).toHaveCount(0);
      expect((await request.get(`/containerjob/jobs/${alpha}`)).status()).toBe(
        404
      );
    });

    await test.step('bulk delete: a running job is named and cancelled first; Keep keeps them', async () => {
      await table.locator(`tr[data-job-id="${bravo}"] input`).check();
      await table.locator(`tr[data-job-id="${delta}"] input`).check();
      const bulk = table.locator('button[data-action="delete-selected"]');
      await expect(bulk).toHaveText('Delete selected (2)');
      await bulk.click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toContainText('Delete 2 jobs?');
      await expect(dialog).toContainText('1 of them is still running');
      await dialog.getByRole('button', { name: 'Keep' }).click();
      await expect(table.locator('tbody tr')).toHaveCount(4);
      await bulk.click();
      await dialog
        .getByRole('button', { name: 'Cancel and delete', exact: true })
        .click();
      await expect(table.locator('tbody tr')).toHaveCount(2);
      await expect(names).toHaveText(['jobs.ipynb · cell 2: x = 1', 'charlie']);
      for (const id of [bravo, delta]) {
        expect((await request.get(`/containerjob/jobs/${id}`)).status()).toBe(
          404
        );
      }
    });

    await test.step('the sidebar follows: deleted jobs are gone from its list', async () => {
      await openSidebar(page);
      await expect(
        page.locator(`${SIDEBAR} [data-job-id="${delta}"]`)
      ).toHaveCount(0);
      await expect(page.locator(`${SIDEBAR} .jp-ContainerJob-job`)).toHaveCount(
        2
      );
      await shots(page, page.locator(SIDEBAR), 'jobsview-sidebar');
    });
  });

  test('a cell job that failed before it started is under its notebook and cell; Cancel is labelled and confirmed; container jobs are named by image and command', async ({
    page,
    request,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'walk.ipynb', [
      { source: '%load_ext containerjob' },
      // This machine's engine has no GPU: the job fails before its container starts.
      {
        source: `%%containerjob --backend local --image ${IMAGE} --gpus 1\nx = 1`
      },
      {
        source: `%%containerjob --backend local --image ${IMAGE}\nimport time\ntime.sleep(300)`
      }
    ]);
    await page.notebook.runCell(0);
    await page.notebook.runCell(1);
    const { id: failed, chip } = await announcedJob(page, 1);
    const panel = await openSidebar(page);
    const mine = panel.locator('.jp-ContainerJob-notebookJobs');

    await test.step('the failed job is under walk.ipynb with its cell, and says it never started', async () => {
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'FAILED',
        { timeout: 60000 }
      );
      const row = mine.locator(`[data-job-id="${failed}"]`);
      await expect(row.locator('.jp-ContainerJob-job-name')).toContainText(
        'walk.ipynb · cell 2: x = 1'
      );
      await expect(row.locator('.jp-ContainerJob-job-meta')).toContainText(
        'not started'
      );
      await expect(
        panel.locator(`.jp-ContainerJob-allJobs [data-job-id="${failed}"]`)
      ).toHaveCount(0);
      await expect(row.locator('[data-action="cancel"]')).toHaveCount(0); // finished
    });

    await page.notebook.selectCells(2);
    await page.keyboard.press('Control+Enter'); // runs on; the kernel waits for the job
    const { id: running } = await announcedJob(page, 2);
    const row = mine.locator(`[data-job-id="${running}"]`);
    const cancel = row.getByRole('button', { name: `Cancel job ${running}` });

    await test.step('Cancel is a labelled button on its own line: the name and image keep the width', async () => {
      await expect(row).toHaveAttribute('data-status', 'RUNNING', {
        timeout: 120000
      });
      await expect(cancel).toHaveText('Cancel job');
      const button = (await cancel.boundingBox())!;
      const meta = (await row
        .locator('.jp-ContainerJob-job-meta')
        .boundingBox())!;
      const name = (await row
        .locator('.jp-ContainerJob-job-name')
        .boundingBox())!;
      expect(button.y).toBeGreaterThanOrEqual(meta.y + meta.height - 1); // below, not beside
      expect(button.height).toBeGreaterThanOrEqual(16);
      expect(meta.width).toBeCloseTo(name.width, 0); // the meta line has the row's width
      await shots(page, panel, 'sidebar-running-cancel');
    });

    await test.step('a job that has run a while asks first; Keep running keeps it', async () => {
      const duration = row.locator('.jp-ContainerJob-duration');
      await expect
        .poll(async () => seconds((await duration.textContent()) || '0s'), {
          timeout: 60000
        })
        .toBeGreaterThan(6);
      await cancel.click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog.locator('.jp-Dialog-header')).toHaveText(
        'Cancel job?'
      );
      await expect(dialog).toContainText(`(${running}) has run for`);
      await shots(
        page,
        dialog.locator('.jp-Dialog-content'),
        'sidebar-cancel-confirm'
      );
      await dialog.getByRole('button', { name: 'Keep running' }).click();
      await expect(dialog).toHaveCount(0);
      await expect(row).toHaveAttribute('data-status', 'RUNNING');
      await cancel.click();
      await dialog
        .getByRole('button', { name: 'Cancel job', exact: true })
        .click();
      await expect(row).toHaveAttribute('data-status', 'CANCELLED', {
        timeout: 60000
      });
      await expect(row.locator('[data-action="cancel"]')).toHaveCount(0);
    });

    await test.step('container jobs are named by image and command, so reruns differ', async () => {
      const ids: string[] = [];
      for (const command of ['echo first', 'echo second']) {
        const response = await request.post('/containerjob/jobs', {
          data: {
            kind: 'container',
            args: ['a b'],
            options: { backend: 'local', image: IMAGE, command }
          }
        });
        expect(response.status()).toBe(201);
        ids.push((await response.json()).id);
      }
      await panel.locator('button[data-action="refresh"]').click();
      for (const [i, word] of ['first', 'second'].entries()) {
        await expect(
          panel.locator(`[data-job-id="${ids[i]}"] .jp-ContainerJob-job-name`)
        ).toContainText(`${IMAGE} · echo ${word} 'a b'`);
      }
      await shots(page, panel, 'sidebar-names');
    });
  });
});
