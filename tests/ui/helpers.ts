/**
 * Steps the browser tests share: open a notebook, pick a toolbar action,
 * check the launch form, find the job a cell announced, open the sidebar.
 */
import { IJupyterLabPageFixture, expect } from '@jupyterlab/galata';

import type { Locator } from '@playwright/test';

import * as path from 'path';

export const ARTIFACTS = path.resolve(__dirname, 'artifacts');
export const IMAGE = 'python:3.11-slim';
export const SIDEBAR = '#containerjob-sidebar';
/** The project start_lab.sh gives the server (GOOGLE_CLOUD_PROJECT). */
export const PROJECT = 'containerjob-ui-test';

export interface ICellSpec {
  source: string;
  tags?: string[];
}

/** Upload a Python notebook with these code cells and open it. */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string,
  cells: ICellSpec[]
) {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    cells: cells.map((cell, i) => ({
      cell_type: 'code',
      id: `cell-${i}`,
      metadata: cell.tags ? { tags: cell.tags } : {},
      source: cell.source,
      outputs: [],
      execution_count: null
    }))
  };
  await page.contents.uploadContent(
    JSON.stringify(notebook),
    'text',
    `${tmpPath}/${name}`
  );
  await page.notebook.openByPath(`${tmpPath}/${name}`);
  await page.notebook.activate(name);
  // The kernel is up when the toolbar's kernel status says idle.
  await expect(
    page.locator(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator'
    )
  ).toHaveAttribute('data-status', 'idle', { timeout: 60000 });
}

/** Open the notebook toolbar's "Container job" menu and pick an action. */
export async function toolbarAction(
  page: IJupyterLabPageFixture,
  label: string
) {
  await page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar')
    .getByText('Container job')
    .click();
  await page
    .locator('.lm-Menu.jp-ContainerJob-menu')
    .getByText(label, { exact: true })
    .click();
}

/** The launch form: returns its dialog after checking what it shows. */
export async function launchForm(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('.jp-ContainerJob-form')).toBeVisible();
  await expect(dialog.locator('input[name="image"]')).toHaveValue(IMAGE); // from the settings registry
  const project = dialog.locator('.jp-ContainerJob-form-project');
  if (
    (await dialog.locator('select[name="backend"]').inputValue()) === 'local'
  ) {
    await expect(project).toBeHidden(); // nothing local needs Google Cloud
  } else {
    await expect(project).toHaveText(
      `Project: ${PROJECT} (from GOOGLE_CLOUD_PROJECT)`
    );
  }
  return dialog;
}

/** The job announced in a cell's output: its id, once the chip shows. */
export async function announcedJob(
  page: IJupyterLabPageFixture,
  cellIndex: number
): Promise<{ id: string; chip: Locator }> {
  const cell = (await page.notebook.getCellLocator(cellIndex))!;
  const chip = cell.locator('.jp-ContainerJob-chip');
  await expect(chip).toBeVisible({ timeout: 60000 });
  const id = (await chip.locator('[data-job-id]').getAttribute('data-job-id'))!;
  expect(id).toMatch(/^cj-[0-9a-f]{8,32}$/);
  return { id, chip };
}

export async function openSidebar(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  await page.sidebar.openTab('containerjob-sidebar');
  const panel = page.locator(SIDEBAR);
  await expect(panel).toBeVisible();
  return panel;
}

/** Screenshots of `target` light and dark, 1280 and 900 px wide: `NAME-{light,dark}-{1280,900}.png`. */
export async function shots(
  page: IJupyterLabPageFixture,
  target: Locator,
  name: string
): Promise<void> {
  for (const width of [1280, 900]) {
    await page.setViewportSize({ width, height: 900 });
    for (const theme of ['light', 'dark'] as const) {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      } else {
        await page.theme.setLightTheme();
      }
      await target.screenshot({
        path: path.join(ARTIFACTS, `${name}-${theme}-${width}.png`)
      });
    }
  }
  await page.theme.setLightTheme();
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** `GET backends`, whatever query JupyterLab's request adds. */
const BACKENDS_ROUTE = /\/containerjob\/backends(\?|$)/;

/**
 * Until the returned function is called, the server's `GET backends` answer
 * says `name` cannot run, with `reason` (the rest is the server's own).
 */
export async function reportUnavailable(
  page: IJupyterLabPageFixture,
  name: string,
  reason: string
): Promise<() => Promise<void>> {
  await page.route(BACKENDS_ROUTE, async route => {
    const response = await route.fetch();
    const { backends } = await response.json();
    for (const backend of backends) {
      if (backend.name === name) {
        Object.assign(backend, { available: false, message: reason });
      }
    }
    await route.fulfill({ response, json: { backends } });
  });
  return () => page.unroute(BACKENDS_ROUTE);
}

/**
 * "Cancel job" on a job page (`detail`): a job that has run a few seconds
 * asks first (jobasks.ts), and the answer here is to cancel.
 */
export async function cancelFromPage(
  page: IJupyterLabPageFixture,
  detail: Locator
): Promise<void> {
  await detail.locator('button[data-action="cancel"]').click();
  const confirm = page
    .locator('.jp-Dialog')
    .getByRole('button', { name: 'Cancel job' });
  const status = detail.locator('.jp-ContainerJob-status').first();
  await expect(async () => {
    if (await confirm.isVisible()) {
      await confirm.click();
    }
    await expect(status).toHaveText(/CANCELL/, { timeout: 500 });
  }).toPass({ timeout: 60000 });
}
