/**
 * How a cell action talks to the `%%containerjob` magic: options are the
 * cell's first line (magicline.ts reads and writes its flags), options and
 * launched job ids live in the cell metadata, and the magic announces each
 * job with an output of {@link JOB_MIME}.
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
  /** The status as the kernel last knew it (when it announced the job, when it saw it end). */
  status: JobStatus;
  /**
   * Which view carries the cell's status: `widgets`, the chip; `text`, the
   * kernel's text lines (papermill, nbconvert), so the chip shows none.
   */
  view: 'widgets' | 'text';
}

/**
 * The text after `%%containerjob` on the cell's first line (its flags), or
 * `null` when the cell does not start with the magic.
 */
export function magicLineOf(source: string): string | null {
  const first = source.split('\n', 1)[0];
  const match = /^[ \t]*%%containerjob(?:[ \t]+(.*))?$/.exec(first);
  return match ? (match[1] ?? '').trimEnd() : null;
}

/** The cell's code, without its `%%containerjob` line. */
export function cellCode(source: string): string {
  const newline = source.indexOf('\n');
  if (magicLineOf(source) === null) {
    return source;
  }
  return newline === -1 ? '' : source.slice(newline + 1);
}

/**
 * `source` with `%%containerjob <flags>` as its first line: an existing
 * `%%containerjob` line is replaced, anything else is kept below it.
 */
export function withMagicLine(source: string, flags: string): string {
  const line = flags ? `${MAGIC} ${flags}` : MAGIC;
  const newline = source.indexOf('\n');
  if (magicLineOf(source) !== null) {
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
        status: (value.status ?? 'QUEUED') as JobStatus,
        view: value.view === 'text' ? 'text' : 'widgets'
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
