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
 * the raw response text, otherwise the HTTP status line.
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
  }

  /**
   * HTTP status code of the failed response.
   */
  readonly status: number;
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
  const requestUrl = URLExt.join(
    serverSettings.baseUrl,
    API_NAMESPACE,
    endPoint
  );

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

  const text = await response.text();
  let body: unknown = null;
  let isJSON = false;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
      isJSON = true;
    } catch {
      body = text;
    }
  }

  if (!response.ok) {
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
    throw new ContainerJobRequestError(response, message, body, traceback);
  }

  if (!isJSON && body !== null) {
    throw new ContainerJobRequestError(
      response,
      `Expected a JSON response from ${requestUrl}`,
      body
    );
  }
  return (body ?? undefined) as T;
}
