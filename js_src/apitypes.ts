/**
 * The shapes of the containerjob REST API's requests and answers, as the
 * server's handlers send them (python_pkg/containerjob/server): what the
 * client in api.ts, the model and the widgets share.
 */
import { IRunOptions, RunOptionName } from './options.generated';

/**
 * Options of a run (core/option_table.py, generated into
 * options.generated.ts): strings as typed by a user; the server validates
 * them and answers 400 naming the field.
 */
export type { IRunOptions, RunOptionName };

/**
 * Lifecycle of a job (core/models.py `JobStatus`); the final ones never change.
 */
export type JobStatus =
  | 'QUEUED'
  | 'PENDING'
  | 'RUNNING'
  | 'CANCELLING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELLED'
  | 'LOST';

export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>([
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'LOST'
]);

/**
 * Whether a job's status can still change.
 */
export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** The backends containerjob ships; others come from plugins. */
export type BuiltinBackend = 'local' | 'vertex' | 'executor';

/** A backend's name: a built-in one or whatever a plugin registers. */
export type BackendName = string;

/**
 * What a job runs: a notebook cell, a script folder, a whole notebook, or
 * an image's own program (`container`: no Python needed in the image).
 */
export type JobKind = 'cell' | 'script' | 'notebook' | 'container';

/**
 * A job record as the server sends it (`JobRecord.to_dict()`); times are
 * epoch seconds, the spec's secret env values are already redacted.
 */
export interface IJob {
  id: string;
  name: string;
  backend: string;
  status: JobStatus;
  spec: Record<string, unknown>;
  image: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  message: string;
  backend_ref: string;
  job_dir: string;
  origin: string;
  duration_s: number | null;
}

/**
 * The `POST jobs` answer: the job, and what the backend said before sending
 * it that its submitter should see (`warning: ...`, `note: ...`), as the CLI
 * and the magic print them.
 */
export interface ISubmittedJob extends IJob {
  warnings: string[];
}

/**
 * Body of `POST jobs`.
 */
export interface ISubmitJob {
  kind: JobKind;
  /** Code of a cell or script. */
  source?: string;
  /** Notebook path relative to the server root (kind `notebook`). */
  path?: string;
  parameters?: Record<string, unknown>;
  /** Kind `container`: the image's program is its ENTRYPOINT or `options.command`. */
  options?: IRunOptions;
  /**
   * Kind `container` only: the words given to the program in place of the
   * image's CMD (Vertex AI's containerSpec.args).
   */
  args?: string[];
  /**
   * Kind `container` only: a CustomJob file (path under the server root),
   * read as `containerjob run --config` reads it; the other fields override it.
   */
  config?: string;
  /** Notebook the job came from. */
  origin?: string;
}

/** What a CustomJob file sets (`GET customjob`). */
export interface ICustomJobFile {
  path: string;
  /** Run options the file sets (image, machine_type, accelerator, env...). */
  options: IRunOptions;
  /** The chief's containerSpec.command and args. */
  command: string[];
  args: string[];
  /** workerPoolSpecs after the chief's. */
  pools: {
    image: string;
    machine_type: string;
    replica_count: number;
    accelerator_type?: string | null;
    accelerator_count?: number;
  }[];
}

export interface IJobQuery {
  status?: JobStatus;
  backend?: string;
  origin?: string;
  /** Only the runs of this schedule (label `containerjob-schedule=ID`). */
  schedule?: string;
  limit?: number;
  offset?: number;
}

export interface IJobList {
  jobs: IJob[];
  limit: number;
  offset: number;
}

/**
 * A slice of a job's logs from byte offset `since`; `next` is the offset
 * to ask for next, `done` says the job is final and all was sent.
 */
export interface ILogChunk {
  text: string;
  next: number;
  done: boolean;
}

/**
 * One replica of a job (`GET jobs/{id}/replicas`): its Vertex name
 * (workerpool{pool}-{index}), its state in job status words, how it ended.
 */
export interface IReplica {
  name: string;
  pool: number;
  index: number;
  state: JobStatus;
  exit_code: number | null;
  message: string;
}

export interface IOutputFile {
  path: string;
  size: number;
  modified: number;
}

export interface INotebookParameter {
  name: string;
  type: string;
  default: unknown;
  help: string;
}

/**
 * `GET settings`: the defaults a job gets, with the project resolved as the
 * job would get it and where it came from.
 */
export interface IServerSettings {
  default_backend: string;
  default_image: string;
  project: string | null;
  /** Where the project came from; empty when none was found. */
  project_source: string;
  region: string;
  staging_bucket: string;
  image_repo: string;
  service_account: string;
  home: string;
}

/** What a backend can do, as `GET backends` declares it. */
export interface IBackendCapabilities {
  /** The kinds of job it runs. */
  kinds: JobKind[];
  schedules: boolean;
  gpus: boolean;
  cancel: boolean;
  live_logs: boolean;
}

/**
 * One entry of `GET backends`: whether it can run now (`message` says why
 * not, or what it runs against), what it can do, the run options it takes.
 */
export interface IBackendInfo {
  name: BackendName;
  label: string;
  available: boolean;
  message: string;
  capabilities: IBackendCapabilities;
  options: RunOptionName[];
}

export type ScheduleState = 'ACTIVE' | 'PAUSED';

export interface ISchedule {
  id: string;
  name: string;
  notebook: string;
  cron: string;
  timezone: string;
  backend: string;
  state: ScheduleState;
  parameters: Record<string, unknown>;
  options: IRunOptions;
  missed: 'skip' | 'run_once';
  max_concurrent: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_job_id: string | null;
  created_at: number;
  backend_ref: string;
  message: string;
  /** The copy of the notebook that runs. */
  snapshot?: string;
  /** The cron in plain words, e.g. "At 09:00, Monday through Friday". */
  description?: string;
  /** The notebook relative to the server root; `null` when outside it. */
  path?: string | null;
}

/** `GET schedules/preview`: a cron in words and its next run times. */
export interface ISchedulePreview {
  cron: string;
  timezone: string;
  description: string;
  /** Epoch seconds, as the scheduler will fire them. */
  next_runs: number[];
}

/**
 * Body of `POST schedules` (`PATCH schedules/{id}` takes any part of it).
 */
export interface IScheduleRequest {
  name?: string;
  /** Notebook path relative to the server root. */
  notebook: string;
  /** Five-field cron, e.g. `0 3 * * *`. */
  cron: string;
  /** IANA time zone (server default UTC). */
  timezone?: string;
  parameters?: Record<string, unknown>;
  options?: IRunOptions;
  missed?: 'skip' | 'run_once';
  /**
   * Runs allowed at once, 1 to 100. A form sends text that is no whole
   * number as typed, so that the server's answer names it.
   */
  max_concurrent?: number | string;
}

/**
 * One problem of a request under the field it names: `options.NAME` for a
 * run option, else the body's field (`cron`, `max_concurrent`, `path`...).
 */
export interface IFieldProblem {
  field: string;
  message: string;
}
