import { ContainerJobAPI } from '../../js_src/api';
import { LogStream } from '../../js_src/logs';

import { FakeServer, advance, flush, useFakeTimers } from './fakeserver';

/**
 * A server holding `log` for job cj-1: answers `since=N` with the text after
 * N; `done` once `final` is set and everything was sent.
 */
function logServer(state: { log: string; final: boolean }): FakeServer {
  return new FakeServer().on('GET jobs/cj-1/logs', r => {
    const since = Number(r.query.get('since') ?? 0);
    const text = state.log.slice(since);
    return {
      status: 200,
      body: { text, next: state.log.length, done: state.final }
    };
  });
}

describe('LogStream', () => {
  let stream: LogStream;

  beforeEach(() => {
    useFakeTimers();
  });

  afterEach(() => {
    stream?.dispose();
    jest.useRealTimers();
  });

  it('asks only for what follows the characters already received', async () => {
    const state = { log: 'one\n', final: false };
    const server = logServer(state);
    stream = new LogStream(new ContainerJobAPI(server.settings), 'cj-1', {
      min: 500,
      max: 4000
    });
    const text: string[] = [];
    stream.appended.connect((_, chunk) => text.push(chunk));

    stream.active = true;
    await flush();
    state.log += 'two\n';
    await advance(500);
    state.log += 'three\n';
    state.final = true;
    await advance(500);

    expect(text).toEqual(['one\n', 'two\n', 'three\n']);
    expect(server.requests.map(r => r.query.get('since'))).toEqual([
      '0',
      '4',
      '8'
    ]);
    expect(stream.done).toBe(true);
    expect(stream.next).toBe(14);

    await advance(60000);
    expect(server.requests).toHaveLength(3);
  });

  it('backs off while the job is quiet and speeds up when text arrives', async () => {
    const state = { log: '', final: false };
    const server = logServer(state);
    stream = new LogStream(new ContainerJobAPI(server.settings), 'cj-1', {
      min: 500,
      max: 4000
    });

    stream.active = true;
    await flush(); // empty -> next in 1 s
    await advance(1000); // empty -> 2 s
    await advance(2000); // empty -> 4 s
    expect(server.requests).toHaveLength(3);
    state.log = 'x';
    await advance(4000); // text -> 500 ms
    await advance(500);
    expect(server.requests).toHaveLength(5);
  });

  it('pauses while inactive and resumes where it stopped', async () => {
    const state = { log: 'abc', final: false };
    const server = logServer(state);
    stream = new LogStream(new ContainerJobAPI(server.settings), 'cj-1', {
      min: 500,
      max: 4000
    });
    stream.active = true;
    await flush();

    stream.active = false;
    state.log += 'def';
    await advance(60000);
    expect(server.requests).toHaveLength(1);

    stream.active = true;
    await flush();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].query.get('since')).toBe('3');
  });

  it('reports a failing server and keeps trying with backoff', async () => {
    let fail = true;
    const server = new FakeServer().on('GET jobs/cj-1/logs', () =>
      fail
        ? {
            status: 502,
            body: {
              error: 'BackendError',
              message: 'Vertex AI did not answer; retry'
            }
          }
        : { status: 200, body: { text: 'ok', next: 2, done: true } }
    );
    stream = new LogStream(new ContainerJobAPI(server.settings), 'cj-1', {
      min: 500,
      max: 4000
    });
    const states = jest.fn();
    stream.stateChanged.connect(states);

    stream.active = true;
    await flush();
    expect(stream.error).toBe('Vertex AI did not answer; retry');

    fail = false;
    await advance(1000);
    expect(stream.error).toBeNull();
    expect(stream.done).toBe(true);
    expect(states).toHaveBeenCalledTimes(2);
  });
});
