/**
 * How a cell action talks to the `%%containerjob` magic: options become the
 * cell's first line, options and launched job ids live in the cell metadata,
 * and the magic announces each job with an output of {@link JOB_MIME}.
 *
 * Pure functions over strings and JSON, so the rules are testable alone.
 */
import { IRunOptions, JobStatus, RunOptionName } from './api';

import { IRunOptionSpec, RUN_OPTIONS } from './options.generated';

/** MIME type of the output the magic displays when it submits a job. */
export const JOB_MIME = 'application/vnd.containerjob.job+json';

/** Key of our entry in `cell.metadata`. */
export const METADATA_KEY = 'containerjob';

export const MAGIC = '%%containerjob';

/**
 * The options a cell action sets: the backend, the environment and whatever
 * fields the option table gives its form (so any run option may appear).
 */
export type CellOptions = IRunOptions;

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

/**
 * The option table in the order flags are written: `--backend` first (where
 * it runs), repeatable ones last, the rest in the table's order.
 */
const ORDER: readonly IRunOptionSpec[] = [...RUN_OPTIONS].sort(
  (a, b) => rank(a) - rank(b)
);

function rank(row: IRunOptionSpec): number {
  return row.name === 'backend' ? 0 : row.kind === 'list' ? 2 : 1;
}

/** The values of one option, in flag order (a list's items, a set text). */
function values(options: CellOptions, name: RunOptionName): string[] {
  const value = (options as IRunOptions)[name];
  if (Array.isArray(value)) {
    return value;
  }
  return typeof value === 'string' && value.trim() ? [value.trim()] : [];
}

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
  for (const { name, flag } of ORDER) {
    for (const value of values(options, name)) {
      const problem =
        name === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(value)
          ? `${flag} ${value} is not NAME=VALUE; write one NAME=VALUE per line`
          : flagValueProblem(flag, value);
      if (problem) {
        problems.push(problem);
      }
    }
  }
  return problems;
}

/**
 * The magic's flags for `options`: the table's `--flag value` per set option
 * that the backend takes (`accepted`, from `GET backends`), each item of a
 * repeatable one, no `--gpus 0`.
 */
export function magicFlags(
  options: CellOptions,
  accepted: ReadonlySet<RunOptionName>
): string {
  const words: string[] = [];
  for (const { name, flag } of ORDER) {
    if (!accepted.has(name)) {
      continue;
    }
    for (const value of values(options, name)) {
      if (!(name === 'gpus' && value === '0')) {
        words.push(flag, value);
      }
    }
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
