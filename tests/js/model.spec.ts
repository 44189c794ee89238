import { ContainerJobAPI, IJob } from '../../js_src/api';
import { JobListModel, nextDelay } from '../../js_src/model';

import { FakeServer, advance, flush, job, useFakeTimers } from './fakeserver';

const BACKOFF = { min: 1000, max: 8000, factor: 2 };

/** A server whose job list is whatever `jobs` holds at the time of the call. */
function serverWith(jobs: () => IJob[]): FakeServer {
  return new FakeServer().on('GET jobs', () => ({
    status: 200,
    body: { jobs: jobs(), limit: 50, offset: 0 }
  }));
}

describe('nextDelay', () => {
  it('resets to min on movement and grows by the factor up to max', () => {
    expect(nextDelay(4000, true, BACKOFF)).toBe(1000);
    expect(nextDelay(1000, false, BACKOFF)).toBe(2000);
    expect(nextDelay(6000, false, BACKOFF)).toBe(8000);
    expect(nextDelay(8000, false, BACKOFF)).toBe(8000);
  });
});

describe('JobListModel', () => {
  let model: JobListModel;

  beforeEach(() => {
    useFakeTimers();
  });

  afterEach(() => {
    model?.dispose();
    jest.useRealTimers();
  });

  it('sends nothing while hidden', async () => {
    const server = serverWith(() => []);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);

    await advance(60000);

    expect(server.requests).toHaveLength(0);
  });

  it('polls at once when shown, and every min while a job runs', async () => {
    const server = serverWith(() => [job('cj-1', { status: 'RUNNING' })]);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    const changed = jest.fn();
    model.changed.connect(changed);

    model.visible = true;
    await flush();
    expect(server.calls('GET jobs')).toHaveLength(1);
    expect(server.calls('GET jobs')[0].query.get('limit')).toBe('50');
    expect(model.jobs.map(j => j.id)).toEqual(['cj-1']);
    expect(changed).toHaveBeenCalledTimes(1);

    await advance(1000);
    await advance(1000);
    expect(server.calls('GET jobs')).toHaveLength(3);
    expect(model.delay).toBe(1000);
  });

  it('backs off while nothing changes and nothing runs', async () => {
    const server = serverWith(() => [job('cj-1', { status: 'SUCCEEDED' })]);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);

    model.visible = true;
    await flush(); // first poll: the list moved -> next in 1 s
    await advance(1000); // quiet -> 2 s
    await advance(2000); // quiet -> 4 s
    await advance(4000); // quiet -> 8 s (max)
    expect(server.calls('GET jobs')).toHaveLength(4);
    expect(model.delay).toBe(8000);

    await advance(7999);
    expect(server.calls('GET jobs')).toHaveLength(4);
    await advance(1);
    expect(server.calls('GET jobs')).toHaveLength(5);
    expect(model.delay).toBe(8000);
  });

  it('goes back to min when the list changes', async () => {
    let jobs = [job('cj-1', { status: 'SUCCEEDED' })];
    const server = serverWith(() => jobs);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    model.visible = true;
    await flush();
    await advance(1000);
    await advance(2000);
    expect(model.delay).toBe(4000);

    jobs = [job('cj-2', { status: 'QUEUED', created_at: 2000 }), ...jobs];
    await advance(4000);

    expect(model.delay).toBe(1000);
    expect(model.jobs.map(j => j.id)).toEqual(['cj-2', 'cj-1']);
  });

  it('stops polling when hidden and resumes with a fresh poll when shown', async () => {
    const server = serverWith(() => [job('cj-1', { status: 'RUNNING' })]);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    model.visible = true;
    await flush();
    await advance(1000);
    expect(server.requests).toHaveLength(2);

    model.visible = false;
    await advance(60000);
    expect(server.requests).toHaveLength(2);

    model.visible = true;
    await flush();
    expect(server.requests).toHaveLength(3);
  });

  it('backs off on server errors and reports the message, then recovers', async () => {
    let fail = true;
    const server = new FakeServer().on('GET jobs', () =>
      fail
        ? {
            status: 503,
            body: {
              error: 'BackendUnavailable',
              message: 'Docker engine not reachable: start dockerd'
            }
          }
        : { status: 200, body: { jobs: [], limit: 50, offset: 0 } }
    );
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);

    model.visible = true;
    await flush();
    expect(model.error).toBe('Docker engine not reachable: start dockerd');
    expect(model.delay).toBe(2000);
    await advance(2000);
    expect(model.delay).toBe(4000);
    expect(server.requests).toHaveLength(2);

    fail = false;
    await advance(4000);
    expect(model.error).toBeNull();
    expect(model.delay).toBe(1000);
  });

  it('passes the filter to the list and refreshes at once', async () => {
    const server = serverWith(() => []);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    model.visible = true;
    await flush();

    model.query = { backend: 'vertex' };
    await flush();

    const calls = server.calls('GET jobs');
    expect(calls).toHaveLength(2);
    expect(calls[1].query.get('backend')).toBe('vertex');
  });

  it('fetches tracked jobs that are not on the list page, once they are final', async () => {
    const server = serverWith(() => [job('cj-1', { status: 'SUCCEEDED' })])
      .on('GET jobs/cj-old', {
        status: 200,
        body: job('cj-old', { status: 'FAILED', created_at: 10 })
      })
      .on('GET jobs/cj-gone', {
        status: 404,
        body: { error: 'JobNotFound', message: 'no job cj-gone' }
      });
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    model.track(['cj-1', 'cj-old', 'cj-gone']);

    model.visible = true;
    await flush();
    await advance(1000);
    await advance(2000);

    expect(model.jobs.map(j => j.id)).toEqual(['cj-1', 'cj-old']);
    expect(model.isMissing('cj-gone')).toBe(true);
    expect(model.error).toBeNull();
    expect(server.calls('GET jobs/cj-old')).toHaveLength(1);
    expect(server.calls('GET jobs/cj-gone')).toHaveLength(1);
    expect(server.calls('GET jobs/cj-1')).toHaveLength(0);
  });

  it('announces a job seen unfinished once it is final, once', async () => {
    let status: IJob['status'] = 'RUNNING';
    const server = serverWith(() => [
      job('cj-1', { status }),
      job('cj-done', { status: 'SUCCEEDED' })
    ]);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    const finished: string[] = [];
    model.jobFinished.connect((_, j) => finished.push(`${j.id} ${j.status}`));
    model.visible = true;
    await flush();

    status = 'FAILED';
    await advance(1000);
    await advance(1000);
    await advance(2000);

    expect(finished).toEqual(['cj-1 FAILED']);
  });

  it('follows a watched job by id while hidden until it is final, then stops', async () => {
    let status: IJob['status'] = 'RUNNING';
    const server = serverWith(() => []).on('GET jobs/cj-7', () => ({
      status: 200,
      body: job('cj-7', { status })
    }));
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    const finished: string[] = [];
    model.jobFinished.connect((_, j) => finished.push(j.id));

    model.watch(job('cj-7', { status: 'QUEUED' }));
    await flush();
    expect(server.calls('GET jobs')).toHaveLength(0);
    expect(server.calls('GET jobs/cj-7')).toHaveLength(1);

    await advance(1000);
    expect(server.calls('GET jobs/cj-7')).toHaveLength(2);

    status = 'SUCCEEDED';
    await advance(60000);
    expect(finished).toEqual(['cj-7']);
    const calls = server.calls('GET jobs/cj-7').length;
    await advance(120000);
    expect(server.calls('GET jobs/cj-7')).toHaveLength(calls);
    expect(server.calls('GET jobs')).toHaveLength(0);
  });

  it('announces a watched job whose first record is already final', async () => {
    const server = serverWith(() => []).on('GET jobs/cj-8', {
      status: 200,
      body: job('cj-8', { status: 'SUCCEEDED' })
    });
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    const finished: string[] = [];
    model.jobFinished.connect((_, j) => finished.push(j.id));

    model.watch('cj-8');
    await flush();

    expect(finished).toEqual(['cj-8']);
  });

  it('does not announce tracked jobs that were final when first seen', async () => {
    const server = serverWith(() => []).on('GET jobs/cj-9', {
      status: 200,
      body: job('cj-9', { status: 'FAILED' })
    });
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    const finished = jest.fn();
    model.jobFinished.connect(finished);

    model.track(['cj-9']);
    model.visible = true;
    await flush();

    expect(model.get('cj-9')?.status).toBe('FAILED');
    expect(finished).not.toHaveBeenCalled();
  });

  it('sends one request at a time when refreshed during a poll', async () => {
    let release: () => void = () => undefined;
    const server = new FakeServer().on(
      'GET jobs',
      () =>
        new Promise(resolve => {
          release = () =>
            resolve({ status: 200, body: { jobs: [], limit: 50, offset: 0 } });
        })
    );
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    model.visible = true;
    await flush();

    const again = model.refresh();
    void model.refresh();
    await flush();
    expect(server.requests).toHaveLength(1);

    release();
    await flush();
    expect(server.requests).toHaveLength(2);
    release();
    await again;
    expect(server.requests).toHaveLength(2);
  });

  it('stops everything when disposed', async () => {
    const server = serverWith(() => [job('cj-1')]);
    model = new JobListModel(new ContainerJobAPI(server.settings), BACKOFF);
    model.visible = true;
    await flush();

    model.dispose();
    await advance(60000);

    expect(server.requests).toHaveLength(1);
  });
});
