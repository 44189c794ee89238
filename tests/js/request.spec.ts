import { ServerConnection } from '@jupyterlab/services';

import {
  API_NAMESPACE,
  ContainerJobRequestError,
  requestAPI
} from '../../js_src/request';

const BASE_URL = 'http://localhost:8888/lab-base/';

/**
 * Server settings whose fetch is a jest mock answering with `reply`.
 */
function settingsReplying(
  reply: (request: Request) => Response | Promise<Response>
): { settings: ServerConnection.ISettings; fetchMock: jest.Mock } {
  const fetchMock = jest.fn((input: RequestInfo | URL, init?: RequestInit) => {
    const request =
      input instanceof Request && init === undefined
        ? input
        : new Request(input as RequestInfo, init);
    return Promise.resolve(reply(request));
  });
  const settings = ServerConnection.makeSettings({
    baseUrl: BASE_URL,
    wsUrl: 'ws://localhost:8888/lab-base/',
    token: 'secret-token',
    appendToken: false,
    fetch: fetchMock as unknown as typeof fetch,
    Request,
    Headers
  });
  return { settings, fetchMock };
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

/**
 * Run `promise`, expecting it to reject, and return the rejection reason.
 */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (reason) {
    return reason;
  }
  throw new Error('expected the promise to reject');
}

describe('requestAPI', () => {
  it('GETs <baseUrl>/containerjob/<endPoint> and decodes the JSON reply', async () => {
    const { settings, fetchMock } = settingsReplying(() =>
      jsonResponse(200, { version: '0.1.0' })
    );

    const data = await requestAPI<{ version: string }>('version', settings);

    expect(data).toEqual({ version: '0.1.0' });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const request = fetchMock.mock.calls[0][0] as Request;
    expect(API_NAMESPACE).toBe('containerjob');
    // makeRequest may append a cache-busting query string.
    expect(request.url.split('?')[0]).toBe(
      'http://localhost:8888/lab-base/containerjob/version'
    );
    expect(request.method).toBe('GET');
    // makeRequest adds the server token: requests go through ServerConnection.
    expect(request.headers.get('Authorization')).toBe('token secret-token');
  });

  it('passes the method and body of init through', async () => {
    const { settings, fetchMock } = settingsReplying(() =>
      jsonResponse(201, { id: 'job-1' })
    );

    const data = await requestAPI<{ id: string }>('jobs', settings, {
      method: 'POST',
      body: JSON.stringify({ image: 'python:3.12' })
    });

    expect(data).toEqual({ id: 'job-1' });
    const request = fetchMock.mock.calls[0][0] as Request;
    expect(request.url.split('?')[0]).toBe(
      'http://localhost:8888/lab-base/containerjob/jobs'
    );
    expect(request.method).toBe('POST');
    expect(await request.text()).toBe('{"image":"python:3.12"}');
  });

  it('returns undefined for an empty 2xx body', async () => {
    const { settings } = settingsReplying(
      () => new Response(null, { status: 204 })
    );

    await expect(requestAPI('jobs/job-1', settings)).resolves.toBeUndefined();
  });

  it("throws a ContainerJobRequestError carrying the server's JSON message", async () => {
    const { settings } = settingsReplying(() =>
      jsonResponse(404, { message: 'No job job-9', reason: 'Not Found' })
    );

    const error = await rejectionOf(requestAPI('jobs/job-9', settings));

    expect(error).toBeInstanceOf(ContainerJobRequestError);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    const requestError = error as ContainerJobRequestError;
    expect(requestError.name).toBe('ContainerJobRequestError');
    expect(requestError.message).toBe('No job job-9');
    expect(requestError.status).toBe(404);
    expect(requestError.response.status).toBe(404);
    expect(requestError.body).toEqual({
      message: 'No job job-9',
      reason: 'Not Found'
    });
  });

  it('keeps the traceback the server sent', async () => {
    const { settings } = settingsReplying(() =>
      jsonResponse(500, {
        message: 'boom',
        traceback: 'Traceback (most recent call last): ...'
      })
    );

    const error = (await rejectionOf(
      requestAPI('version', settings)
    )) as ContainerJobRequestError;

    expect(error.message).toBe('boom');
    expect(error.traceback).toBe('Traceback (most recent call last): ...');
  });

  it('uses the text of a non-JSON error body as the message', async () => {
    const { settings } = settingsReplying(
      () => new Response('upstream proxy failure', { status: 502 })
    );

    const error = (await rejectionOf(
      requestAPI('version', settings)
    )) as ContainerJobRequestError;

    expect(error).toBeInstanceOf(ContainerJobRequestError);
    expect(error.message).toBe('upstream proxy failure');
    expect(error.status).toBe(502);
  });

  it('falls back to the status line for an empty error body', async () => {
    const { settings } = settingsReplying(
      () => new Response(null, { status: 403, statusText: 'Forbidden' })
    );

    const error = (await rejectionOf(
      requestAPI('version', settings)
    )) as ContainerJobRequestError;

    expect(error.message).toBe('403 Forbidden');
    expect(error.body).toBeNull();
  });

  it('rejects a 2xx reply that is not JSON', async () => {
    const { settings } = settingsReplying(
      () => new Response('<html>login</html>', { status: 200 })
    );

    const error = (await rejectionOf(
      requestAPI('version', settings)
    )) as ContainerJobRequestError;

    expect(error).toBeInstanceOf(ContainerJobRequestError);
    expect(error.message).toContain('Expected a JSON response');
    expect(error.body).toBe('<html>login</html>');
  });

  it('turns a failed fetch into a ServerConnection.NetworkError', async () => {
    const { settings } = settingsReplying(() => {
      throw new TypeError('Failed to fetch');
    });

    const error = await rejectionOf(requestAPI('version', settings));

    expect(error).toBeInstanceOf(ServerConnection.NetworkError);
    expect((error as Error).message).toBe('Failed to fetch');
  });
});
