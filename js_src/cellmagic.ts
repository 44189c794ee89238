/**
 * How a cell action talks to the `%%containerjob` magic: options become the
 * cell's first line, options and launched job ids live in the cell metadata,
 * and the magic announces each job with an output of {@link JOB_MIME}.
 *
 * Pure functions over strings and JSON, so the rules are testable alone.
 */
import { IRunOptions, JobStatus } from './api';

/** MIME type of the output the magic displays when it submits a job. */
export const JOB_MIME = 'application/vnd.containerjob.job+json';

/** Key of our entry in `cell.metadata`. */
export const METADATA_KEY = 'containerjob';

export const MAGIC = '%%containerjob';

/**
 * The options a cell action sets, named as `RunOptions` fields.
 */
export type CellOptions = Pick<
  IRunOptions,
  | 'backend'
  | 'image'
  | 'gpus'
  | 'machine_type'
  | 'accelerator'
  | 'region'
  | 'project'
  | 'staging_bucket'
  | 'env'
  | 'timeout'
>;

/** `cell.metadata.containerjob`. */
export interface ICellMetadata {
  options?: CellOptions;
  jobs?: string[];
}

/** What the magic's job output carries. */
export interface IJobAnnouncement {
  id: string;
  backend: string;
  status: JobStatus;
}

/** Option name -> flag, in the order flags are written. */
const FLAGS: [keyof CellOptions, string][] = [
  ['backend', '--backend'],
  ['image', '--image'],
  ['gpus', '--gpus'],
  ['machine_type', '--machine-type'],
  ['accelerator', '--accelerator'],
  ['region', '--region'],
  ['project', '--project'],
  ['staging_bucket', '--staging-bucket'],
  ['timeout', '--timeout']
];

/** Options that only mean something on Vertex AI. */
const VERTEX_ONLY: ReadonlySet<keyof CellOptions> = new Set<keyof CellOptions>([
  'machine_type',
  'accelerator',
  'region',
  'staging_bucket'
]);

/**
 * Why a value cannot go on the magic line, or `null` when it can.
 *
 * IPython splits magic lines without a POSIX shell's quoting (quotes stay
 * part of the value), so a value must be one word without quotes.
 */
export function flagValueProblem(name: string, value: string): string | null {
  if (/\s/.test(value)) {
    return `${name} "${value}" contains whitespace, which the %%containerjob line cannot carry; remove it`;
  }
  if (/["']/.test(value)) {
    return `${name} ${value} contains a quote, which the %%containerjob line would keep as part of the value; remove it`;
  }
  return null;
}

/**
 * Problems of the options as magic flags (empty when they can be written).
 */
export function optionProblems(options: CellOptions): string[] {
  const problems: string[] = [];
  for (const [key, flag] of FLAGS) {
    const value = options[key];
    if (typeof value === 'string' && value) {
      const problem = flagValueProblem(flag, value);
      if (problem) {
        problems.push(problem);
      }
    }
  }
  for (const entry of options.env ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(entry)) {
      problems.push(
        `--env ${entry} is not NAME=VALUE; write one NAME=VALUE per line`
      );
    } else {
      const problem = flagValueProblem('--env', entry);
      if (problem) {
        problems.push(problem);
      }
    }
  }
  return problems;
}

/**
 * The magic's flags for `options`: `--flag value` per set option (Vertex
 * options only for the vertex backend, no `--gpus 0`), then `--env K=V` each.
 */
export function magicFlags(options: CellOptions): string {
  const words: string[] = [];
  const vertex = options.backend === 'vertex';
  for (const [key, flag] of FLAGS) {
    const value = options[key];
    if (typeof value !== 'string' || !value.trim()) {
      continue;
    }
    if (VERTEX_ONLY.has(key) && !vertex) {
      continue;
    }
    if (key === 'gpus' && value.trim() === '0') {
      continue;
    }
    words.push(flag, value.trim());
  }
  for (const entry of options.env ?? []) {
    words.push('--env', entry);
  }
  return words.join(' ');
}

/**
 * `source` with `%%containerjob <flags>` as its first line: an existing
 * `%%containerjob` line is replaced, anything else is kept below it.
 */
export function withMagicLine(source: string, flags: string): string {
  const line = flags ? `${MAGIC} ${flags}` : MAGIC;
  const newline = source.indexOf('\n');
  const first = newline === -1 ? source : source.slice(0, newline);
  if (first.trim() === MAGIC || first.trimStart().startsWith(`${MAGIC} `)) {
    return newline === -1 ? line : line + source.slice(newline);
  }
  return source ? `${line}\n${source}` : line;
}

/**
 * The job announcements among a cell's outputs (display_data or
 * execute_result carrying {@link JOB_MIME}).
 */
export function announcements(
  outputs: ReadonlyArray<unknown>
): IJobAnnouncement[] {
  const found: IJobAnnouncement[] = [];
  for (const output of outputs) {
    const data = (output as { data?: Record<string, unknown> } | null)?.data;
    const value = data?.[JOB_MIME] as Partial<IJobAnnouncement> | undefined;
    if (value && typeof value.id === 'string' && value.id) {
      found.push({
        id: value.id,
        backend: String(value.backend ?? ''),
        status: (value.status ?? 'QUEUED') as JobStatus
      });
    }
  }
  return found;
}

/**
 * Read our metadata entry whatever shape a saved notebook left there.
 */
export function readMetadata(value: unknown): ICellMetadata {
  if (!value || typeof value !== 'object') {
    return {};
  }
  const record = value as ICellMetadata;
  const jobs = Array.isArray(record.jobs)
    ? record.jobs.filter((id): id is string => typeof id === 'string')
    : [];
  const options =
    record.options && typeof record.options === 'object'
      ? record.options
      : undefined;
  return { ...record, jobs, ...(options ? { options } : {}) };
}

/**
 * `metadata` with `id` appended to its job list (once).
 */
export function withJob(metadata: ICellMetadata, id: string): ICellMetadata {
  const jobs = metadata.jobs ?? [];
  return jobs.includes(id) ? metadata : { ...metadata, jobs: [...jobs, id] };
}
