import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

/**
 * URL namespace of the containerjob server extension routes.
 *
 * Every route lives under `<baseUrl>/containerjob/`.
 */
export const API_NAMESPACE = 'containerjob';

/**
 * Error thrown by {@link requestAPI} when the server answers with a non-2xx
 * status.
 *
 * `message` is the server's JSON `message` field when it sent one, otherwise
 * the raw response text, otherwise the HTTP status line. `error` is the
 * server's `error` field (the typed error's name, e.g. `SpecError`), or
 * `HTTPError` when the body did not name one (a proxy, a login page).
 */
export class ContainerJobRequestError extends ServerConnection.ResponseError {
  constructor(
    response: Response,
    message: string,
    /**
     * The decoded response body: parsed JSON when the body was JSON, the raw
     * text otherwise, `null` when it was empty.
     */
    readonly body: unknown,
    traceback?: string
  ) {
    super(response, message, traceback);
    this.name = 'ContainerJobRequestError';
    this.status = response.status;
    const record = body as { error?: unknown } | null;
    this.error =
      record !== null &&
      typeof record === 'object' &&
      typeof record.error === 'string' &&
      record.error
        ? record.error
        : 'HTTPError';
  }

  /**
   * HTTP status code of the failed response.
   */
  readonly status: number;

  /**
   * The server's error type name (`SpecError`, `JobNotFound`, ...).
   */
  readonly error: string;
}

/**
 * The full URL of a route, e.g. for a download link.
 */
export function apiURL(
  endPoint: string,
  serverSettings: ServerConnection.ISettings
): string {
  return URLExt.join(serverSettings.baseUrl, API_NAMESPACE, endPoint);
}

/**
 * Send one request through `ServerConnection.makeRequest` (token, XSRF and
 * base URL handled there) and read its body as text.
 */
async function send(
  requestUrl: string,
  serverSettings: ServerConnection.ISettings,
  init: RequestInit,
  read: (response: Response) => Promise<string | Blob>
): Promise<{ response: Response; body: string | Blob }> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      requestUrl,
      init,
      serverSettings
    );
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  if (!response.ok) {
    throw errorOf(response, await response.text());
  }
  return { response, body: await read(response) };
}

/**
 * Decode a body: JSON when it parses, the text otherwise, `null` when empty.
 */
function decode(text: string): { body: unknown; isJSON: boolean } {
  if (text.length === 0) {
    return { body: null, isJSON: false };
  }
  try {
    return { body: JSON.parse(text), isJSON: true };
  } catch {
    return { body: text, isJSON: false };
  }
}

/**
 * The error for a non-2xx response, with the server's `{error, message}`.
 */
function errorOf(response: Response, text: string): ContainerJobRequestError {
  const { body, isJSON } = decode(text);
  let message = `${response.status} ${response.statusText}`.trim();
  let traceback: string | undefined;
  if (isJSON && body !== null && typeof body === 'object') {
    const record = body as { message?: unknown; traceback?: unknown };
    if (typeof record.message === 'string' && record.message) {
      message = record.message;
    }
    if (typeof record.traceback === 'string') {
      traceback = record.traceback;
    }
  } else if (typeof body === 'string' && body) {
    message = body;
  }
  return new ContainerJobRequestError(response, message, body, traceback);
}

/**
 * Call a route of the containerjob server extension.
 *
 * This is the only place where the front end talks to the server: every
 * request goes through `ServerConnection.makeRequest`, so it carries the
 * server's token / XSRF headers and honours the base URL.
 *
 * @param endPoint Route below the extension's namespace, e.g. `'version'`.
 * @param serverSettings Server settings, usually `app.serviceManager.serverSettings`.
 * @param init Initial values for the request (method, body, headers, ...).
 * @returns The response body decoded as JSON (`undefined` for an empty body).
 * @throws {ServerConnection.NetworkError} when the server cannot be reached.
 * @throws {ContainerJobRequestError} when the server answers with a non-2xx status.
 */
export async function requestAPI<T>(
  endPoint: string,
  serverSettings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  const requestUrl = apiURL(endPoint, serverSettings);
  const { response, body: text } = await send(
    requestUrl,
    serverSettings,
    init,
    r => r.text()
  );
  const { body, isJSON } = decode(text as string);
  if (!isJSON && body !== null) {
    throw new ContainerJobRequestError(
      response,
      `Expected a JSON response from ${requestUrl}`,
      body
    );
  }
  return (body ?? undefined) as T;
}

/**
 * Fetch a route's body as a Blob (file downloads), with the same
 * authentication and error mapping as {@link requestAPI}.
 */
export async function requestBlob(
  endPoint: string,
  serverSettings: ServerConnection.ISettings
): Promise<Blob> {
  const { body } = await send(
    apiURL(endPoint, serverSettings),
    serverSettings,
    {},
    r => r.blob()
  );
  return body as Blob;
}
