import { ServerConnection } from '@jupyterlab/services';

import {
  ContainerJobAPI,
  describeError,
  isFinal,
  isNotFound
} from '../../js_src/api';
import { ContainerJobRequestError } from '../../js_src/request';

import { BUILTIN_BACKENDS, FakeServer, job } from './fakeserver';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (reason) {
    return reason;
  }
  throw new Error('expected the promise to reject');
}

describe('ContainerJobAPI requests', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
  });

  it('lists jobs with only the filters that are set', async () => {
    server.on('GET jobs', {
      status: 200,
      body: { jobs: [job('cj-1')], limit: 50, offset: 0 }
    });

    const page = await api.listJobs({
      backend: 'vertex',
      limit: 50,
      status: undefined
    });

    expect(page.jobs.map(j => j.id)).toEqual(['cj-1']);
    const [request] = server.calls('GET jobs');
    expect(request.query.get('backend')).toBe('vertex');
    expect(request.query.get('limit')).toBe('50');
    expect(request.query.has('status')).toBe(false);
  });

  it('POSTs a notebook job with its parameters and options as JSON', async () => {
    server.on('POST jobs', r => ({
      status: 201,
      body: job('cj-2', { origin: (r.body as any).path })
    }));

    const created = await api.submitJob({
      kind: 'notebook',
      path: 'work/train.ipynb',
      parameters: { epochs: 3 },
      options: { backend: 'executor', machine_type: 'n1-standard-8' }
    });

    expect(created.id).toBe('cj-2');
    const [request] = server.calls('POST jobs');
    expect(request.body).toEqual({
      kind: 'notebook',
      path: 'work/train.ipynb',
      parameters: { epochs: 3 },
      options: { backend: 'executor', machine_type: 'n1-standard-8' }
    });
    expect(request.headers.get('Content-Type')).toBe('application/json');
    expect(request.headers.get('Authorization')).toBe('token secret-token');
  });

  it('asks for logs from the offset already seen', async () => {
    server.on('GET jobs/cj-3/logs', {
      status: 200,
      body: { text: 'b\n', next: 4, done: false }
    });

    const chunk = await api.logs('cj-3', 2);

    expect(chunk).toEqual({ text: 'b\n', next: 4, done: false });
    expect(server.calls('GET jobs/cj-3/logs')[0].query.get('since')).toBe('2');
  });

  it('uses the job routes for get, cancel, delete and outputs', async () => {
    server
      .on('GET jobs/cj-4', { status: 200, body: job('cj-4') })
      .on('POST jobs/cj-4/cancel', {
        status: 200,
        body: job('cj-4', { status: 'CANCELLING' })
      })
      .on('DELETE jobs/cj-4', { status: 204 })
      .on('GET jobs/cj-4/outputs', {
        status: 200,
        body: { files: [{ path: 'model/w.bin', size: 3, modified: 5 }] }
      });

    expect((await api.getJob('cj-4')).status).toBe('RUNNING');
    expect((await api.cancelJob('cj-4')).status).toBe('CANCELLING');
    await expect(api.deleteJob('cj-4')).resolves.toBeUndefined();
    expect(await api.outputs('cj-4')).toEqual([
      { path: 'model/w.bin', size: 3, modified: 5 }
    ]);
    expect(server.requests.map(r => `${r.method} ${r.route}`)).toEqual([
      'GET jobs/cj-4',
      'POST jobs/cj-4/cancel',
      'DELETE jobs/cj-4',
      'GET jobs/cj-4/outputs'
    ]);
  });

  it('downloads an output file with its path segments encoded', async () => {
    server.on('GET jobs/cj-5/outputs/*', { status: 200, body: 'raw bytes' });

    const blob = await api.downloadOutput('cj-5', 'a dir/b#1.txt');

    expect(await blob.text()).toBe('raw bytes');
    expect(server.requests[0].route).toBe('jobs/cj-5/outputs/a dir/b%231.txt');
    expect(api.outputURL('cj-5', 'a dir/b#1.txt')).toBe(
      'http://localhost:8888/lab-base/containerjob/jobs/cj-5/outputs/a%20dir/b%231.txt'
    );
  });

  it('reads notebook parameters for a path', async () => {
    server.on('GET notebooks/parameters', {
      status: 200,
      body: {
        parameters: [{ name: 'epochs', type: 'int', default: 1, help: '' }]
      }
    });

    const parameters = await api.notebookParameters('dir/n b.ipynb');

    expect(parameters[0].name).toBe('epochs');
    expect(server.requests[0].query.get('path')).toBe('dir/n b.ipynb');
  });

  it('returns the unwrapped lists of backends and schedules', async () => {
    server.on('GET schedules', { status: 200, body: { schedules: [] } });

    expect(await api.backends()).toEqual(BUILTIN_BACKENDS);
    expect(await api.listSchedules()).toEqual([]);
  });

  it('drives the schedule routes', async () => {
    const schedule = { id: 'cs-00000001', state: 'ACTIVE' };
    server
      .on('POST schedules', { status: 201, body: schedule })
      .on('PATCH schedules/cs-00000001', { status: 200, body: schedule })
      .on('POST schedules/cs-00000001/pause', {
        status: 200,
        body: { ...schedule, state: 'PAUSED' }
      })
      .on('POST schedules/cs-00000001/resume', { status: 200, body: schedule })
      .on('POST schedules/cs-00000001/run', { status: 201, body: job('cj-6') })
      .on('DELETE schedules/cs-00000001', { status: 204 });
    const body = {
      name: 'nightly',
      notebook: 'n.ipynb',
      cron: '0 3 * * *',
      timezone: 'UTC',
      parameters: {},
      options: { backend: 'local' },
      missed: 'skip' as const,
      max_concurrent: 1
    };

    await api.createSchedule(body);
    await api.updateSchedule('cs-00000001', { cron: '0 4 * * *' });
    expect((await api.pauseSchedule('cs-00000001')).state).toBe('PAUSED');
    await api.resumeSchedule('cs-00000001');
    expect((await api.runSchedule('cs-00000001')).id).toBe('cj-6');
    await api.deleteSchedule('cs-00000001');

    expect(server.calls('POST schedules')[0].body).toEqual(body);
    expect(server.calls('PATCH schedules/cs-00000001')[0].body).toEqual({
      cron: '0 4 * * *'
    });
    expect(server.requests).toHaveLength(6);
  });
});

describe('ContainerJobAPI errors', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
  });

  it.each([
    [400, 'SpecError', '--gpus x is not a number: use --gpus N'],
    [404, 'JobNotFound', 'no job cj-9; list jobs with containerjob list'],
    [502, 'BackendError', 'Vertex AI refused the job: quota'],
    [503, 'BackendUnavailable', 'Docker engine not reachable: start dockerd'],
    [409, 'JobRunning', 'job cj-9 is still running; cancel it first']
  ])(
    'maps %i {error: %s} to a typed error with the message',
    async (status, error, message) => {
      server.on('POST jobs', { status, body: { error, message } });

      const reason = await rejectionOf(
        api.submitJob({ kind: 'cell', source: 'x' })
      );

      expect(reason).toBeInstanceOf(ContainerJobRequestError);
      const typed = reason as ContainerJobRequestError;
      expect(typed.status).toBe(status);
      expect(typed.error).toBe(error);
      expect(typed.message).toBe(message);
      expect(describeError(reason)).toBe(message);
      expect(isNotFound(reason)).toBe(status === 404);
    }
  );

  it('names an error without the {error} field HTTPError', async () => {
    server.on('GET jobs/cj-1', { status: 500, body: '<html>oops</html>' });

    const reason = (await rejectionOf(
      api.getJob('cj-1')
    )) as ContainerJobRequestError;

    expect(reason.error).toBe('HTTPError');
    expect(reason.message).toBe('<html>oops</html>');
  });

  it('keeps the InternalError answer of an unexpected server failure', async () => {
    server.on('GET settings', {
      status: 500,
      body: {
        error: 'InternalError',
        message: 'internal error; see the server log'
      }
    });

    const reason = (await rejectionOf(
      api.settings()
    )) as ContainerJobRequestError;

    expect(reason.error).toBe('InternalError');
    expect(describeError(reason)).toBe('internal error; see the server log');
  });

  it('says the server cannot be reached when fetch fails', async () => {
    server.on('GET jobs', new TypeError('Failed to fetch'));

    const reason = await rejectionOf(api.listJobs());

    expect(reason).toBeInstanceOf(ServerConnection.NetworkError);
    expect(describeError(reason)).toBe(
      'cannot reach the Jupyter server (Failed to fetch); check that it is running'
    );
  });

  it('maps a failed download like any other call', async () => {
    server.on('GET jobs/cj-1/outputs/*', {
      status: 404,
      body: { error: 'JobNotFound', message: 'no output ../x of cj-1' }
    });

    const reason = (await rejectionOf(
      api.downloadOutput('cj-1', 'x')
    )) as ContainerJobRequestError;

    expect(reason.error).toBe('JobNotFound');
    expect(reason.message).toBe('no output ../x of cj-1');
  });
});

describe('isFinal', () => {
  it('treats only SUCCEEDED, FAILED, CANCELLED and LOST as final', () => {
    expect(
      (
        [
          'QUEUED',
          'RUNNING',
          'CANCELLING',
          'SUCCEEDED',
          'FAILED',
          'CANCELLED',
          'LOST'
        ] as const
      ).filter(isFinal)
    ).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST']);
  });
});
