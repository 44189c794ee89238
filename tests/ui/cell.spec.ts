/**
 * The cell a `%%containerjob` job runs from tells one story: one status (the
 * live chip, or the kernel's text lines where the chip is not the view), the
 * same as the sidebar's at every moment; "Show job" and "Restore output and
 * variables" look like JupyterLab links and never break inside a job ID; no
 * restore is offered for a job with nothing to restore; a local cell says
 * nothing about Google Cloud. Screenshots of a running and a finished cell,
 * light and dark, 1280 and 900 px wide, go to artifacts/cell-*.png.
 */
import {
  IJupyterLabPageFixture,
  expect,
  galata,
  test
} from '@jupyterlab/galata';

import type { Locator } from '@playwright/test';

import * as path from 'path';

import {
  ARTIFACTS,
  IMAGE,
  announcedJob,
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

const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST'];

/**
 * Samples, every 50 ms in the page until both are final (or `ms` passed), the
 * chip's status text and the sidebar row's status: the pairs seen.
 */
async function sampleStatuses(
  page: IJupyterLabPageFixture,
  id: string,
  ms: number
): Promise<Array<[string, string]>> {
  return page.evaluate(
    ({ id, ms, final }) =>
      new Promise<Array<[string, string]>>(resolve => {
        const seen: Array<[string, string]> = [];
        const started = Date.now();
        const timer = setInterval(() => {
          const chip = document
            .querySelector(`.jp-ContainerJob-chip [data-job-id="${id}"]`)
            ?.closest('.jp-ContainerJob-chip')
            ?.querySelector('.jp-ContainerJob-status');
          const row = document.querySelector(
            `#containerjob-sidebar .jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
          );
          const pair: [string, string] = [
            chip?.textContent ?? '',
            row?.getAttribute('data-status') ?? ''
          ];
          const last = seen[seen.length - 1];
          if (!last || last[0] !== pair[0] || last[1] !== pair[1]) {
            seen.push(pair);
          }
          if (
            (final.includes(pair[0]) && final.includes(pair[1])) ||
            Date.now() - started > ms
          ) {
            clearInterval(timer);
            resolve(seen);
          }
        }, 50);
      }),
    { id, ms, final: FINAL }
  );
}

/** What the links must look like: JupyterLab's link colour, underlined, each on one line. */
async function expectLinks(chip: Locator, id: string): Promise<void> {
  const links = chip.locator('a.jp-ContainerJob-link:visible');
  expect(await links.count()).toBeGreaterThanOrEqual(1);
  for (const link of await links.all()) {
    const style = await link.evaluate(node => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--jp-content-link-color)';
      node.parentElement!.appendChild(probe);
      const expected = getComputedStyle(probe).color;
      probe.remove();
      const own = getComputedStyle(node);
      return {
        color: own.color,
        expected,
        decoration: own.textDecorationLine,
        cursor: own.cursor,
        lines: node.getClientRects().length
      };
    });
    expect(style.color).toBe(style.expected);
    expect(style.decoration).toContain('underline');
    expect(style.cursor).toBe('pointer');
    expect(style.lines).toBe(1); // never broken across lines
    // Hovered, it stays a link (JupyterLab's `.jp-ThemedContainer a:hover` unsets colour and underline).
    await link.hover();
    const hovered = await link.evaluate(node => {
      const probe = document.createElement('span');
      probe.style.color =
        'var(--jp-content-link-hover-color, var(--jp-content-link-color))';
      node.parentElement!.appendChild(probe);
      const expected = getComputedStyle(probe).color;
      probe.remove();
      const own = getComputedStyle(node);
      return { color: own.color, expected, decoration: own.textDecorationLine };
    });
    expect(hovered.color).toBe(hovered.expected);
    expect(hovered.decoration).toContain('underline');
  }
  await chip.page().mouse.move(0, 0);
  // The ID, where the chip writes it, lies on one line: one box for its characters.
  const idLines = await chip
    .locator('.jp-ContainerJob-chip-job')
    .evaluate((node, id) => {
      const text = node.firstChild!;
      const start = text.textContent!.indexOf(id);
      const range = document.createRange();
      range.setStart(text, start);
      range.setEnd(text, start + id.length);
      return new Set(
        Array.from(range.getClientRects()).map(rect => Math.round(rect.top))
      ).size;
    }, id);
  expect(idLines).toBe(1);
  // Nothing of the chip overflows its cell.
  const overflow = await chip.evaluate(
    node => node.scrollWidth - node.clientWidth
  );
  expect(overflow).toBeLessThanOrEqual(0);
}

test.describe('the cell of a container job', () => {
  test('one status, the chip, agreeing with the sidebar; link-styled actions whole at 900 px; nothing about Google Cloud', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'cell.ipynb', [
      { source: '%load_ext containerjob' },
      {
        source: `%%containerjob --backend local --image ${IMAGE}\nimport time\nprint("started")\ntime.sleep(20)\nanswer = 42\nprint("done")`
      }
    ]);
    await page.notebook.runCell(0);
    const panel = await openSidebar(page);
    await page.notebook.selectCells(1);
    await page.keyboard.press('Control+Enter'); // the kernel waits for the job; the test goes on
    const { id, chip } = await announcedJob(page, 1);
    const cell = (await page.notebook.getCellLocator(1))!;
    const outputs = cell.locator('.jp-Cell-outputArea');
    const row = panel.locator(
      `.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
    );

    await test.step('while it runs: the chip is the only status, and the sidebar says the same', async () => {
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'RUNNING',
        { timeout: 60000 }
      );
      await expect(row).toHaveAttribute('data-status', 'RUNNING');
      await expect(outputs).toContainText('started', { timeout: 60000 });
      await expect(outputs.locator('.jp-ContainerJob-status')).toHaveCount(1);
      const text = (await outputs.innerText()).trim();
      expect(text).not.toContain('[containerjob]'); // no text status header
      expect(text).not.toMatch(/\b(QUEUED|PENDING|RUNNING|SUCCEEDED)\b.*·/);
      expect(text).not.toMatch(/Google Cloud|GCP|project/i);
      await expectLinks(chip, id);
      await page.setViewportSize({ width: 900, height: 800 });
      await expectLinks(chip, id);
      await page.setViewportSize({ width: 1280, height: 800 });
      await shots(page, cell, 'cell-running');
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'RUNNING'
      ); // the shots show it running
    });

    await test.step('until the end, at every sample, the chip and the sidebar agree', async () => {
      const seen = await sampleStatuses(page, id, 90000);
      const last = seen[seen.length - 1];
      expect(last).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      for (const [chipStatus, rowStatus] of seen) {
        expect(`${chipStatus} / ${rowStatus}`).toBe(
          `${chipStatus} / ${chipStatus}`
        );
      }
    });

    await test.step('finished: one status, restore offered, links whole at 900 px', async () => {
      await page.notebook.waitForRun(1);
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'SUCCEEDED'
      );
      await expect(outputs.locator('.jp-ContainerJob-status')).toHaveCount(1);
      await expect(outputs).toContainText('done');
      const text = (await outputs.innerText()).trim();
      expect(text).not.toContain('[containerjob]');
      expect(text).not.toMatch(/Google Cloud|GCP|project/i);
      await expect(chip.locator('.jp-ContainerJob-restore')).toBeVisible();
      await expectLinks(chip, id);
      await page.setViewportSize({ width: 900, height: 800 });
      await expectLinks(chip, id);
      await page.setViewportSize({ width: 1280, height: 800 });
      await shots(page, cell, 'cell-finished');
    });
  });

  test('text view (as papermill writes it): the text lines are the status, the chip shows none', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'celltext.ipynb', [
      {
        source:
          '%load_ext containerjob\n%config ContainerJob.display_mode = "text"'
      },
      {
        source: `%%containerjob --backend local --image ${IMAGE}\nprint("hello from text")`
      }
    ]);
    await page.notebook.runCell(0);
    await page.notebook.runCell(1);
    const { chip } = await announcedJob(page, 1);
    const outputs = (await page.notebook.getCellLocator(1))!.locator(
      '.jp-Cell-outputArea'
    );
    await expect(outputs).toContainText('SUCCEEDED', { timeout: 120000 });
    await expect(outputs).toContainText('hello from text');
    await expect(chip.locator('.jp-ContainerJob-status')).toHaveCount(0);
    await expect(outputs.locator('.jp-ContainerJob-status')).toHaveCount(0);
    expect(await outputs.innerText()).not.toMatch(/Google Cloud|GCP|project/i);
  });

  test('a cancelled job and one that failed before it started offer no restore', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'cellcancel.ipynb', [
      { source: '%load_ext containerjob' },
      // This machine's engine has no GPU: the job fails before its container starts.
      {
        source: `%%containerjob --backend local --image ${IMAGE} --gpus 1\nx = 1`
      },
      {
        source: `%%containerjob --backend local --image ${IMAGE}\nimport time\nprint("sleeping")\ntime.sleep(300)`
      }
    ]);
    await page.notebook.runCell(0);
    const panel = await openSidebar(page);

    await test.step('failed before it started: FAILED, no restore', async () => {
      await page.notebook.runCell(1);
      const { id, chip } = await announcedJob(page, 1);
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'FAILED',
        { timeout: 60000 }
      );
      await expect(
        panel.locator(`.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`)
      ).toHaveAttribute('data-status', 'FAILED');
      await expect(chip.locator('a.jp-ContainerJob-link')).toHaveCount(2);
      await expect(chip.locator('.jp-ContainerJob-restore')).toBeHidden();
      await expect(chip.getByText('Show job')).toBeVisible();
    });

    await test.step('cancelled from the sidebar: CANCELLED in both, no restore', async () => {
      await page.notebook.selectCells(2);
      await page.keyboard.press('Control+Enter');
      const { id, chip } = await announcedJob(page, 2);
      const row = panel.locator(
        `.jp-ContainerJob-notebookJobs [data-job-id="${id}"]`
      );
      await expect(row).toHaveAttribute('data-status', 'RUNNING', {
        timeout: 60000
      });
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'RUNNING'
      );
      await row.getByRole('button', { name: `Cancel job ${id}` }).click();
      const confirm = page
        .locator('.jp-Dialog')
        .getByRole('button', { name: 'Cancel job', exact: true });
      const asked = await confirm
        .waitFor({ state: 'visible', timeout: 3000 })
        .then(() => true)
        .catch(() => false);
      if (asked) {
        await confirm.click(); // asked when it has run a while
      }
      await expect(row).toHaveAttribute('data-status', 'CANCELLED', {
        timeout: 60000
      });
      await expect(chip.locator('.jp-ContainerJob-status')).toHaveText(
        'CANCELLED'
      );
      await page.notebook.waitForRun(2);
      await expect(chip.locator('.jp-ContainerJob-restore')).toBeHidden();
      const cell = (await page.notebook.getCellLocator(2))!;
      await cell.screenshot({
        path: path.join(ARTIFACTS, 'cell-cancelled-light-1280.png')
      });
    });
  });
});
