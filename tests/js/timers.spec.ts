/**
 * No timer outlives its owner: every poll and debouncer of the UI
 * (@lumino/polling, see js_src/polling.ts) is running while its widget
 * works and leaves no pending timer once the widget is disposed (or, for
 * the shared duration clock, once no node shows a duration).
 */
import { ContainerJobAPI, IJob, ISchedule } from '../../js_src/api';
import { showDuration } from '../../js_src/elapsed';
import { LogStream } from '../../js_src/logs';
import { JobListModel } from '../../js_src/model';
import { CronField } from '../../js_src/widgets/cronfield';
import { CustomJobField } from '../../js_src/widgets/customjobfield';
import { ReplicasView } from '../../js_src/widgets/replicas';
import { SchedulesView } from '../../js_src/widgets/schedules';

import {
  fakeElement,
  fire,
  installFakeDocument,
  removeFakeDocument
} from './fakedom';
import { FakeServer, advance, flush, job, useFakeTimers } from './fakeserver';

// JupyterLab's dialogs ship as ES modules Jest does not load; the
// schedules section only opens them on a click.
jest.mock('@jupyterlab/apputils', () => ({
  Dialog: {},
  showDialog: jest.fn(),
  showErrorMessage: jest.fn()
}));

const RUNNING = job('cj-1', { status: 'RUNNING' });

function api(server: FakeServer): ContainerJobAPI {
  return new ContainerJobAPI(server.settings);
}

const SCHEDULE = {
  id: 'sch-1',
  name: 'nightly',
  cron: '0 3 * * *',
  timezone: 'UTC',
  backend: 'local',
  state: 'ACTIVE',
  next_run_at: Date.now() / 1000 + 3600,
  last_run_at: null
} as ISchedule;

/** A server with one running job and its logs. */
function busyServer(): FakeServer {
  return new FakeServer()
    .on('GET jobs', { status: 200, body: { jobs: [RUNNING], limit: 50 } })
    .on('GET jobs/cj-1', { status: 200, body: RUNNING })
    .on('GET jobs/cj-1/logs', {
      status: 200,
      body: { text: 'line\n', next: 5, done: false }
    });
}

/**
 * Run `use` (which starts the owner's timers), then `end`: no timer may
 * remain, and `asked` (requests so far) stays put however long one waits.
 */
async function expectNoTimerAfter(
  asked: () => number,
  use: () => unknown,
  end: () => unknown
): Promise<void> {
  await use();
  await flush();
  expect(jest.getTimerCount()).toBeGreaterThan(0);
  end();
  await flush();
  expect(jest.getTimerCount()).toBe(0);
  const before = asked();
  await advance(120000);
  expect(asked()).toBe(before);
}

/** The API as the DOM widgets below use it, without HTTP (see fakedom.ts). */
function fakeApi(schedules: ISchedule[] = []): ContainerJobAPI {
  return {
    replicas: jest.fn(async () => []),
    listSchedules: jest.fn(async () => schedules),
    listJobs: jest.fn(async () => ({ jobs: [], limit: 50, offset: 0 }))
  } as unknown as ContainerJobAPI;
}

beforeEach(() => {
  useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('no timer outlives its owner', () => {
  it('the job list model', async () => {
    const server = busyServer();
    const model = new JobListModel(api(server));
    await expectNoTimerAfter(
      () => server.requests.length,
      () => {
        model.visible = true;
        model.watch('cj-2');
      },
      () => model.dispose()
    );
  });

  it('the log tail', async () => {
    const server = busyServer();
    const stream = new LogStream(api(server), 'cj-1');
    await expectNoTimerAfter(
      () => server.requests.length,
      () => (stream.active = true),
      () => stream.dispose()
    );
  });

  it('the duration clock, once no node shows a duration', async () => {
    const node = fakeElement('span');
    const source = { get: () => RUNNING, receivedAt: () => performance.now() };
    showDuration(node, source, 'cj-1');
    await flush();
    expect(jest.getTimerCount()).toBe(1);
    await advance(3000);
    expect(jest.getTimerCount()).toBe(1);
    (node as { isConnected: boolean }).isConnected = false;
    await advance(1000);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('no timer outlives its widget', () => {
  beforeAll(() => {
    installFakeDocument();
  });

  afterAll(() => {
    removeFakeDocument();
  });

  it('the replicas of a job page', async () => {
    const api = fakeApi();
    const view = new ReplicasView(api, 'cj-1');
    const twoReplicas: IJob = {
      ...RUNNING,
      spec: { worker_pools: [{ replica_count: 2 }] }
    };
    await expectNoTimerAfter(
      () => (api.replicas as jest.Mock).mock.calls.length,
      () => {
        view.job = twoReplicas;
        view.active = true;
      },
      () => view.dispose()
    );
  });

  it('the schedules section (its times and its refresh)', async () => {
    const api = fakeApi([SCHEDULE]);
    const model = new JobListModel(api);
    const view = new SchedulesView({
      api,
      model,
      openJob: () => undefined,
      started: () => undefined,
      edit: async () => undefined
    });
    await expectNoTimerAfter(
      () => (api.listSchedules as jest.Mock).mock.calls.length,
      () => (view.active = true),
      () => view.dispose()
    );
    expect(api.listSchedules).toHaveBeenCalledTimes(1);
    model.dispose();
  });

  it("the cron field's preview", async () => {
    const preview = jest.fn(() => Promise.reject(new Error('no')));
    const field = new CronField(
      '0 3 * * *',
      () => document.createElement('div'),
      () => undefined,
      preview
    );
    await expectNoTimerAfter(
      () => preview.mock.calls.length,
      () => field.showPreview('UTC'),
      () => field.dispose()
    );
    expect(preview).not.toHaveBeenCalled();
  });

  it("the CustomJob file field's read", async () => {
    const read = jest.fn(() => Promise.reject(new Error('no')));
    const field = new CustomJobField(
      '',
      () => document.createElement('div'),
      () => undefined,
      read,
      () => undefined
    );
    await flush(); // the first read (an empty path: nothing to ask)
    field.input.value = 'jobs/train.yaml';
    await expectNoTimerAfter(
      () => read.mock.calls.length,
      () => fire(field.input, 'input'),
      () => field.dispose()
    );
    expect(read).not.toHaveBeenCalled();
  });
});
