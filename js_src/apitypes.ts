/**
 * The names the client (api.ts), the model and the widgets use for the
 * REST API's requests and answers. Every shape is the contract's:
 * apitypes.generated.ts, generated from python_pkg/containerjob/server/
 * openapi.yaml by `python .ci/generate_options.py` (CI fails when stale).
 * Change openapi.yaml, never a shape here.
 */
import { components, operations } from './apitypes.generated';
import { IRunOptions, RunOptionName } from './options.generated';

type Schemas = components['schemas'];

/** The JSON body of an operation's answer with status `S`. */
type Answer<
  O extends keyof operations,
  S extends keyof operations[O]['responses']
> = operations[O]['responses'][S] extends {
  content: { 'application/json': infer T };
}
  ? T
  : never;

/**
 * Options of a run (core/option_table.py, generated into
 * options.generated.ts and openapi.yaml's RunOptions): strings as typed by
 * a user; the server validates them and answers 400 naming the field.
 */
export type { IRunOptions, RunOptionName };

/**
 * Lifecycle of a job (core/models.py `JobStatus`); the final ones never change.
 */
export type JobStatus = Schemas['JobStatus'];

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
export type BackendName = Schemas['Backend']['name'];

/**
 * What a job runs: a notebook cell, a script folder, a whole notebook, or
 * an image's own program (`container`: no Python needed in the image).
 */
export type JobKind = Schemas['JobKind'];

/**
 * A job record as the server sends it (`JobRecord.to_dict()`); times are
 * epoch seconds, the spec's secret env values are already redacted.
 */
export type IJob = Schemas['Job'];

/**
 * The `POST jobs` answer: the job, and what the backend said before sending
 * it that its submitter should see (`warning: ...`, `note: ...`).
 */
export type ISubmittedJob = Answer<'submitJob', 201>;

/** Body of `POST jobs` (and `POST jobs/validate`). */
export type ISubmitJob = Schemas['SubmitJob'];

/** What a CustomJob file sets (`GET customjob`). */
export type ICustomJobFile = Schemas['CustomJobFile'];

/** `POST magic`: a line to read, or a form's options and Other flags to write. */
export type IMagicLineRequest = Schemas['MagicLineRequest'];

/** What the magic reads in a line (server/magic.py). */
export type IMagicLine = Schemas['MagicLine'];

/** `POST notebooks/parameters`: the texts a form's user typed. */
export type ITypeParametersRequest = Schemas['TypeParametersRequest'];

/** `POST notebooks/parameters`: the texts typed, as values, and those that do not fit. */
export type ITypedParameters = Schemas['TypedParameters'];

/** The filters and page of `GET jobs`. */
export type IJobQuery = NonNullable<
  operations['listJobs']['parameters']['query']
>;

export type IJobList = Answer<'listJobs', 200>;

/**
 * A slice of a job's logs from byte offset `since`; `next` is the offset
 * to ask for next, `done` says the job is final and all was sent.
 */
export type ILogChunk = Schemas['LogChunk'];

/** One replica of a job (`GET jobs/{id}/replicas`). */
export type IReplica = Schemas['Replica'];

export type IOutputFile = Schemas['OutputFile'];

export type INotebookParameter = Schemas['NotebookParameter'];

/** `GET settings`: the defaults a job gets, with the project resolved. */
export type IServerSettings = Schemas['Settings'];

/** One entry of `GET backends`. */
export type IBackendInfo = Schemas['Backend'];

/** What a backend can do, as `GET backends` declares it. */
export type IBackendCapabilities = IBackendInfo['capabilities'];

export type ScheduleState = Schemas['Schedule']['state'];

export type ISchedule = Schemas['Schedule'];

/** `GET schedules/preview`: a cron in words and its next run times. */
export type ISchedulePreview = Schemas['SchedulePreview'];

/**
 * Body of `POST schedules` (`PATCH schedules/{id}` takes any part of it).
 * A form sends a `max_concurrent` that is no whole number as typed, so
 * that the server's 400 names it: the one field wider than the contract.
 */
export type IScheduleRequest = Omit<
  Schemas['NewSchedule'],
  'max_concurrent'
> & {
  max_concurrent?: Schemas['ScheduleFields']['max_concurrent'] | string;
};

/**
 * One problem of a request under the field it names: `options.NAME` for a
 * run option, else the body's field (`cron`, `max_concurrent`, `path`...).
 */
export type IFieldProblem = Schemas['FieldProblem'];
