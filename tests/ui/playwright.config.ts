/**
 * Browser tests of the containerjob front end: Debian's chromium (no browser
 * download) against a real JupyterLab started by start_lab.sh, whose cells run
 * in real local containers. Run with `jlpm test:ui` (needs `jlpm build` first).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// Set once in the runner; workers inherit the environment, so they agree.
process.env.CJ_UI_PORT ??= '8917';
process.env.CJ_UI_TOKEN ??= crypto.randomBytes(16).toString('hex');
if (!process.env.CJ_UI_TMP) {
  process.env.CJ_UI_TMP = fs.mkdtempSync(
    path.join(os.tmpdir(), 'containerjob-ui-')
  );
  process.env.CJ_UI_TMP_OWNED = '1'; // start_lab.sh removes it at the end
}

const baseURL = `http://127.0.0.1:${process.env.CJ_UI_PORT}`;

module.exports = {
  ...baseConfig,
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: 'test-results',
  timeout: 300000,
  expect: { timeout: 30000 },
  retries: 0,
  workers: 1,
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }]
  ],
  use: {
    ...baseConfig.use,
    baseURL,
    extraHTTPHeaders: { Authorization: `token ${process.env.CJ_UI_TOKEN}` },
    viewport: { width: 1280, height: 800 },
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CJ_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking'
      ]
    }
  },
  webServer: {
    command: 'bash start_lab.sh',
    url: `${baseURL}/api`,
    timeout: 120000,
    reuseExistingServer: false,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20000 },
    stdout: 'pipe',
    stderr: 'pipe'
  }
};
