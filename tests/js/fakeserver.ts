/**
 * A fake of the containerjob REST routes behind `ServerConnection`'s fetch:
 * the only seam the front end has, so everything above it is real code.
 */
import { ServerConnection } from '@jupyterlab/services';

import { IBackendInfo, IJob } from '../../js_src/api';

import { OPTIONS_BY_BACKEND } from '../../js_src/options.generated';

export const BASE_URL = 'http://localhost:8888/lab-base/';
const PREFIX = `${BASE_URL}containerjob/`;

export interface IRecordedRequest {
  method: string;
  /** Route below `containerjob/`, without the query string. */
  route: string;
  query: URLSearchParams;
  body: unknown;
  headers: Headers;
}

export type Reply = { status: number; body?: unknown } | Error;

type Handler = (request: IRecordedRequest) => Reply | Promise<Reply>;

/**
 * Routes keyed `METHOD route` (route may end in `*`); answers 404 with the
 * server's error shape for anything else. `GET backends` answers
 * {@link BUILTIN_BACKENDS} unless a test routes it.
 */
export class FakeServer {
  readonly requests: IRecordedRequest[] = [];

  readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings(
    {
      baseUrl: BASE_URL,
      wsUrl: 'ws://localhost:8888/lab-base/',
      token: 'secret-token',
      appendToken: false,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        this._fetch(input, init)) as typeof fetch,
      Request,
      Headers
    }
  );

  on(key: string, handler: Handler | Reply): this {
    this._routes.set(
      key,
      typeof handler === 'function' ? handler : () => handler
    );
    return this;
  }

  /** Requests to `METHOD route` so far. */
  calls(key: string): IRecordedRequest[] {
    const [method, route] = key.split(' ');
    return this.requests.filter(r => r.method === method && r.route === route);
  }

  private async _fetch(
    input: RequestInfo | URL,
    init?: RequestInit
  ): Promise<Response> {
    const request =
      input instanceof Request && init === undefined
        ? input
        : new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    const text = await request.text();
    const recorded: IRecordedRequest = {
      method: request.method,
      route: decodeURI(url.origin + url.pathname).slice(PREFIX.length),
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
      headers: request.headers
    };
    this.requests.push(recorded);
    const handler = this._match(`${recorded.method} ${recorded.route}`);
    const reply: Reply = handler
      ? await handler(recorded)
      : {
          status: 404,
          body: { error: 'NotFound', message: `no route ${recorded.route}` }
        };
    if (reply instanceof Error) {
      throw reply;
    }
    if (reply.body === undefined) {
      return new Response(null, { status: reply.status });
    }
    return new Response(
      typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body),
      { status: reply.status, headers: { 'Content-Type': 'application/json' } }
    );
  }

  private _match(key: string): Handler | undefined {
    const exact = this._routes.get(key);
    if (exact) {
      return exact;
    }
    for (const [pattern, handler] of this._routes) {
      if (pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1))) {
        return handler;
      }
    }
    return undefined;
  }

  private _routes = new Map<string, Handler>([
    [
      'GET backends',
      () => ({ status: 200, body: { backends: BUILTIN_BACKENDS } })
    ]
  ]);
}

/** One entry of `GET backends` as the server sends it. */
export function backendInfo(
  name: string,
  overrides: Partial<IBackendInfo> = {}
): IBackendInfo {
  return {
    name,
    label: name,
    available: true,
    message: '',
    capabilities: {
      kinds: ['cell', 'script', 'notebook'],
      schedules: true,
      gpus: false,
      cancel: true,
      live_logs: true
    },
    options: OPTIONS_BY_BACKEND[name] ?? [],
    ...overrides
  };
}

/** The built-in backends as the server describes them. */
export const BUILTIN_BACKENDS: IBackendInfo[] = [
  backendInfo('local', {
    label: 'Local container (Docker)',
    message: 'Docker engine reachable',
    capabilities: {
      kinds: ['cell', 'script', 'notebook', 'container'],
      schedules: true,
      gpus: false,
      cancel: true,
      live_logs: true
    }
  }),
  backendInfo('vertex', {
    label: 'Vertex AI CustomJob',
    capabilities: {
      kinds: ['cell', 'script', 'container'],
      schedules: false,
      gpus: true,
      cancel: true,
      live_logs: true
    }
  }),
  backendInfo('executor', {
    label: 'Vertex AI Workbench Executor',
    capabilities: {
      kinds: ['notebook'],
      schedules: true,
      gpus: true,
      cancel: true,
      live_logs: false
    }
  })
];

/** A job record as the server sends it. */
export function job(id: string, overrides: Partial<IJob> = {}): IJob {
  return {
    id,
    name: id,
    backend: 'local',
    status: 'RUNNING',
    spec: {},
    image: 'python:3.11-slim',
    created_at: 1000,
    started_at: 1001,
    finished_at: null,
    exit_code: null,
    message: '',
    backend_ref: '',
    job_dir: '',
    origin: '',
    duration_s: 1,
    command_text: null,
    args_text: null,
    restorable: false,
    options_text: '',
    ...overrides
  };
}

/**
 * Let pending replies settle (body streams need real macrotasks; tests fake
 * only the timers, see {@link useFakeTimers}).
 */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await new Promise(resolve => setImmediate(resolve));
  }
}

/** Fake setTimeout/clearTimeout only, so fetch bodies still resolve. */
export function useFakeTimers(): void {
  jest.useFakeTimers({
    doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask']
  });
}

/** Advance fake time by `ms`, then let the replies it triggered settle. */
export async function advance(ms: number): Promise<void> {
  jest.advanceTimersByTime(ms);
  await flush();
}
