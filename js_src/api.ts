import { ServerConnection } from '@jupyterlab/services';

import {
  IBackendInfo,
  ICustomJobFile,
  IFieldProblem,
  IJob,
  IJobList,
  IJobQuery,
  ILogChunk,
  IMagicLine,
  IMagicLineRequest,
  INotebookParameter,
  IOutputFile,
  IReplica,
  ISchedule,
  ISchedulePreview,
  IScheduleRequest,
  IServerSettings,
  ISubmitJob,
  ISubmittedJob,
  ITypeParametersRequest,
  ITypedParameters
} from './apitypes';

import {
  ContainerJobRequestError,
  apiURL,
  requestAPI,
  requestBlob
} from './request';

export * from './apitypes';

/**
 * The problems of a refused request (400): those its `errors` list field
 * by field, else its message under no field; `null` for other errors.
 */
export function fieldProblems(reason: unknown): IFieldProblem[] | null {
  if (!(reason instanceof ContainerJobRequestError) || reason.status !== 400) {
    return null;
  }
  const errors = (reason.body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) {
    return [{ field: '', message: reason.message }];
  }
  return errors
    .filter(
      (e): e is IFieldProblem =>
        typeof e?.field === 'string' && typeof e?.message === 'string'
    )
    .map(({ field, message }) => ({ field, message }));
}

/**
 * One line for a user about a failed call: the server's message (which names
 * the problem and the fix), or why the server could not be reached.
 */
export function describeError(reason: unknown): string {
  if (reason instanceof ContainerJobRequestError) {
    return reason.message;
  }
  if (reason instanceof ServerConnection.NetworkError) {
    return `cannot reach the Jupyter server (${reason.message}); check that it is running`;
  }
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * Whether `reason` is the server saying the job (or schedule) does not exist.
 */
export function isNotFound(reason: unknown): boolean {
  return reason instanceof ContainerJobRequestError && reason.status === 404;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function withJSON(method: string, body?: unknown): RequestInit {
  return body === undefined
    ? { method }
    : {
        method,
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' }
      };
}

function post(body?: unknown): RequestInit {
  return withJSON('POST', body);
}

const enc = encodeURIComponent;

/**
 * Typed client of the containerjob REST routes (`<baseUrl>/containerjob/`).
 */
export class ContainerJobAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  version(): Promise<{ version: string }> {
    return this.call('version');
  }

  settings(): Promise<IServerSettings> {
    return this.call('settings');
  }

  async backends(): Promise<IBackendInfo[]> {
    return (await this.call<{ backends: IBackendInfo[] }>('backends')).backends;
  }

  listJobs(q: IJobQuery = {}): Promise<IJobList> {
    return this.call(`jobs${query({ ...q })}`);
  }

  submitJob(body: ISubmitJob): Promise<ISubmittedJob> {
    return this.call('jobs', post(body));
  }

  /**
   * The problems `POST jobs` would refuse `body` for, all at once (none:
   * an empty list); nothing runs.
   */
  validateJob(body: ISubmitJob): Promise<IFieldProblem[]> {
    return this.validate('jobs/validate', body);
  }

  /** The problems `POST schedules` would refuse `body` for; nothing is made. */
  validateSchedule(body: IScheduleRequest): Promise<IFieldProblem[]> {
    return this.validate('schedules/validate', body);
  }

  /** The problems `PATCH schedules/{id}` would refuse `changes` for. */
  validateScheduleEdit(
    id: string,
    changes: Partial<IScheduleRequest>
  ): Promise<IFieldProblem[]> {
    return this.validate(`schedules/${enc(id)}/validate`, changes);
  }

  /** What `cron` means in `timezone`: words and the next `count` runs. */
  previewSchedule(
    cron: string,
    timezone: string,
    count = 3
  ): Promise<ISchedulePreview> {
    return this.call(`schedules/preview${query({ cron, timezone, count })}`);
  }

  /** What the CustomJob file at `path` sets; a bad file is refused under field `config`. */
  customJobFile(path: string): Promise<ICustomJobFile> {
    return this.call(`customjob${query({ path })}`);
  }

  getJob(id: string): Promise<IJob> {
    return this.call(`jobs/${enc(id)}`);
  }

  cancelJob(id: string): Promise<IJob> {
    return this.call(`jobs/${enc(id)}/cancel`, post());
  }

  async deleteJob(id: string): Promise<void> {
    await this.call(`jobs/${enc(id)}`, { method: 'DELETE' });
  }

  async replicas(id: string): Promise<IReplica[]> {
    return (
      await this.call<{ replicas: IReplica[] }>(`jobs/${enc(id)}/replicas`)
    ).replicas;
  }

  logs(id: string, since = 0): Promise<ILogChunk> {
    return this.call(`jobs/${enc(id)}/logs${query({ since })}`);
  }

  async outputs(id: string): Promise<IOutputFile[]> {
    return (
      await this.call<{ files: IOutputFile[] }>(`jobs/${enc(id)}/outputs`)
    ).files;
  }

  /**
   * Where an output file is served (for links; downloads go through
   * {@link downloadOutput} so they carry the token).
   */
  outputURL(id: string, path: string): string {
    return apiURL(this.outputRoute(id, path), this.serverSettings);
  }

  downloadOutput(id: string, path: string): Promise<Blob> {
    return requestBlob(this.outputRoute(id, path), this.serverSettings);
  }

  async notebookParameters(path: string): Promise<INotebookParameter[]> {
    return (
      await this.call<{ parameters: INotebookParameter[] }>(
        `notebooks/parameters${query({ path })}`
      )
    ).parameters;
  }

  /**
   * The values of `texts` typed for `declared` (only those changed from the
   * default), and the texts that do not fit; no request without parameters.
   */
  async typeParameters(
    declared: INotebookParameter[],
    texts: Record<string, string>
  ): Promise<ITypedParameters> {
    if (!declared.length) {
      return { values: {}, problems: [] };
    }
    const body: ITypeParametersRequest = { parameters: declared, texts };
    return this.call('notebooks/parameters', post(body));
  }

  /** A `%%containerjob` line read, or written and read, by the magic's parser. */
  magicLine(body: IMagicLineRequest): Promise<IMagicLine> {
    return this.call('magic', post(body));
  }

  async listSchedules(): Promise<ISchedule[]> {
    return (await this.call<{ schedules: ISchedule[] }>('schedules')).schedules;
  }

  createSchedule(body: IScheduleRequest): Promise<ISchedule> {
    return this.call('schedules', post(body));
  }

  getSchedule(id: string): Promise<ISchedule> {
    return this.call(`schedules/${enc(id)}`);
  }

  updateSchedule(
    id: string,
    changes: Partial<IScheduleRequest>
  ): Promise<ISchedule> {
    return this.call(`schedules/${enc(id)}`, withJSON('PATCH', changes));
  }

  async deleteSchedule(id: string): Promise<void> {
    await this.call(`schedules/${enc(id)}`, { method: 'DELETE' });
  }

  pauseSchedule(id: string): Promise<ISchedule> {
    return this.call(`schedules/${enc(id)}/pause`, post());
  }

  resumeSchedule(id: string): Promise<ISchedule> {
    return this.call(`schedules/${enc(id)}/resume`, post());
  }

  runSchedule(id: string): Promise<IJob> {
    return this.call(`schedules/${enc(id)}/run`, post());
  }

  private outputRoute(id: string, path: string): string {
    const parts = path.split('/').map(enc).join('/');
    return `jobs/${enc(id)}/outputs/${parts}`;
  }

  private async validate(
    endPoint: string,
    body: unknown
  ): Promise<IFieldProblem[]> {
    try {
      await this.call(endPoint, post(body));
      return [];
    } catch (reason) {
      const problems = fieldProblems(reason);
      if (problems === null) {
        throw reason;
      }
      return problems;
    }
  }

  private call<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(endPoint, this.serverSettings, init);
  }
}
