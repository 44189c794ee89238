/**
 * Schedules as a newcomer meets them: a preset and the server's reading of
 * it in plain words with the next runs, a bad cron named at its field, an
 * edit from the sidebar, the Paused badge, a run now and the runs of the
 * schedule, and a next run that moves on by itself once a run has fired;
 * the card names the notebook it runs.
 */
import { expect, galata, test } from '@jupyterlab/galata';

import * as path from 'path';

import {
  ARTIFACTS,
  IMAGE,
  launchForm,
  openNotebook,
  openSidebar,
  shots,
  toolbarAction
} from './helpers';

test.use({
  mockSettings: {
    ...galata.DEFAULT_SETTINGS,
    'containerjob:plugin': { image: IMAGE }
  }
});

test('schedules: presets in plain words, edit, pause badge, runs and a next run that stays current', async ({
  page,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'report.ipynb', [
    { source: 'epochs = 3', tags: ['parameters'] },
    { source: 'print("epochs", epochs)' }
  ]);
  const dialog = page.locator('.jp-Dialog');
  const preview = dialog.locator('.jp-ContainerJob-cronPreview');
  const cron = dialog.locator('input[name="cron"]');
  const preset = dialog.locator('select[name="preset"]');

  await test.step('a preset writes the cron; the server says it in words, with the next runs', async () => {
    await toolbarAction(page, 'Schedule notebook…');
    await launchForm(page);
    await preset.selectOption('weekdays');
    await dialog.locator('input[name="at"]').fill('09:00');
    await dialog.locator('input[name="timezone"]').fill('Europe/Paris');
    await expect(cron).toHaveValue('0 9 * * 1-5');
    await expect(preview).toHaveText(
      /^At 09:00, Monday through Friday \(Europe\/Paris\); next: (Mon|Tue|Wed|Thu|Fri) \d+ \w+ 09:00, /
    );
    await shots(page, dialog.locator('.jp-Dialog-content'), 'schedule-form');
  });

  await test.step('a bad cron is named at its field, and the preview says nothing', async () => {
    await cron.fill('61 * * * *');
    await expect(
      dialog.locator('.jp-ContainerJob-form-error[data-field="cron"]')
    ).toContainText("--cron '61 * * * *' is not a 5-field cron expression");
    await expect(preset).toHaveValue('custom');
    await expect(preview).toBeHidden();
    await expect(
      dialog.locator('.jp-Dialog-button.jp-mod-accept')
    ).toBeDisabled();
    await dialog.locator('.jp-Dialog-content').screenshot({
      path: path.join(ARTIFACTS, 'schedule-form-bad-cron-light.png')
    });
    await cron.fill('0 9 * * 1-5');
    await expect(preset).toHaveValue('weekdays');
    await expect(
      dialog.locator('.jp-ContainerJob-form-error[data-field="cron"]')
    ).toBeHidden();
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(dialog).toContainText('At 09:00, Monday through Friday');
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  });

  const panel = await openSidebar(page);
  const schedule = panel.locator('.jp-ContainerJob-schedule', {
    hasText: 'report'
  });
  const when = schedule.locator('.jp-ContainerJob-schedule-when');
  const next = schedule.locator('.jp-ContainerJob-schedule-next');

  await test.step('the sidebar says it in words, with the next run', async () => {
    await expect(when).toHaveText(
      'At 09:00, Monday through Friday (Europe/Paris)'
    );
    await expect(schedule.locator('.jp-ContainerJob-cron')).toHaveText(
      '0 9 * * 1-5'
    );
    await expect(next).toHaveText(
      /^Next: (Mon|Tue|Wed|Thu|Fri) \d+ \w+ 09:00 \(in \d+ (min|h|d)\)$/
    );
  });

  await test.step('edit: the same form, filled in; the change shows at once', async () => {
    await schedule.getByRole('button', { name: 'Edit' }).click();
    await expect(dialog.locator('.jp-ContainerJob-form')).toBeVisible();
    await expect(preset).toHaveValue('weekdays');
    await expect(cron).toHaveValue('0 9 * * 1-5');
    await expect(dialog.locator('input[name="parameter:epochs"]')).toHaveValue(
      '3'
    );
    await preset.selectOption('daily');
    await dialog.locator('input[name="at"]').fill('06:30');
    await expect(cron).toHaveValue('30 6 * * *');
    await expect(preview).toHaveText(/^At 06:30 \(Europe\/Paris\); next: /);
    await dialog.locator('input[name="parameter:epochs"]').fill('many');
    await expect(
      dialog.locator(
        '.jp-ContainerJob-form-error[data-field="parameters.epochs"]'
      )
    ).toHaveText('parameter epochs: "many" is not an int, e.g. 3');
    await dialog.locator('input[name="parameter:epochs"]').fill('7');
    await expect(
      dialog.locator('.jp-Dialog-button.jp-mod-accept')
    ).toBeEnabled();
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(dialog).toHaveCount(0);
    await expect(when).toHaveText('At 06:30 (Europe/Paris)');
  });

  await test.step('paused is a badge; resume takes it away', async () => {
    await schedule.getByRole('button', { name: 'Pause' }).click();
    await expect(schedule).toHaveAttribute('data-state', 'PAUSED');
    await expect(schedule.locator('.jp-ContainerJob-badge-paused')).toHaveText(
      'Paused'
    );
    await expect(next).toHaveText('No runs until resumed');
    await shots(page, panel, 'sidebar-schedule-paused');
    await schedule.getByRole('button', { name: 'Resume' }).click();
    await expect(schedule).toHaveAttribute('data-state', 'ACTIVE');
    await expect(schedule.locator('.jp-ContainerJob-badge-paused')).toHaveCount(
      0
    );
  });

  const runs = schedule.locator('.jp-ContainerJob-scheduleRun');
  await test.step('run now: the run is in the schedule runs, and opens its job', async () => {
    await schedule.getByRole('button', { name: 'Run now' }).click();
    const detail = page.locator('.jp-ContainerJob-detail:visible');
    await expect(detail).toBeVisible();
    const id = (await detail.getAttribute('data-job-id'))!;
    await openSidebar(page);
    await schedule.getByRole('button', { name: 'Runs' }).click();
    await expect(runs).toHaveCount(1);
    const run = schedule.locator(
      `.jp-ContainerJob-scheduleRun[data-job-id="${id}"]`
    );
    await expect(run).toHaveAttribute('data-status', 'SUCCEEDED', {
      timeout: 120000
    });
    await expect(next).toContainText('last run just now');
    await shots(page, panel, 'sidebar-schedule-runs');
    await run.click();
    await expect(page.locator(`#containerjob-job-${id}`)).toBeVisible();
    await openSidebar(page);
  });

  await test.step('a run the scheduler fires shows, and the next run moves on by itself', async () => {
    await schedule.getByRole('button', { name: 'Edit' }).click();
    await cron.fill('* * * * *');
    await expect(preset).toHaveValue('custom');
    await expect(preview).toHaveText(/^Every minute \(Europe\/Paris\); next: /);
    await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
    await expect(when).toHaveText('Every minute (Europe/Paris)');
    const first = Number(await next.getAttribute('data-next-run'));
    // No click on Refresh: the sidebar follows the firing on its own.
    await expect(runs).toHaveCount(2, { timeout: 120000 });
    await expect
      .poll(async () => Number(await next.getAttribute('data-next-run')), {
        timeout: 120000
      })
      .toBeGreaterThan(first);
    await schedule.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-warn').click();
    await expect(schedule).toHaveCount(0);
  });
});

test('the schedule card names the notebook it runs', async ({
  page,
  request,
  tmpPath
}) => {
  await openNotebook(page, tmpPath, 'nightly.ipynb', [
    { source: 'print("nightly")' }
  ]);
  const response = await request.post('/containerjob/schedules', {
    data: {
      notebook: `${tmpPath}/nightly.ipynb`,
      name: 'every night',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      options: { backend: 'local', image: IMAGE }
    }
  });
  expect(response.status()).toBe(201);
  const { id } = await response.json();
  try {
    const panel = await openSidebar(page);
    const card = panel.locator(
      `li.jp-ContainerJob-schedule[data-schedule-id="${id}"]`
    );
    await expect(card.locator('.jp-ContainerJob-job-name')).toHaveText(
      'every night'
    );
    // under the server root: the path the file browser shows, not the server's absolute one
    await expect(card.locator('[data-role="notebook"]')).toHaveText(
      `Runs ${tmpPath}/nightly.ipynb`
    );
    await shots(page, card, 'schedule-card');
  } finally {
    await request.delete(`/containerjob/schedules/${id}`);
  }
});
