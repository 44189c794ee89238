/**
 * Names people can read for jobs: a cell job goes by its notebook and cell
 * ("analysis.ipynb · cell 3: df = load()"), a notebook job by its notebook;
 * a chosen display name wins, and the server names a container job by its
 * image and program (core/job_names.py owns that rule: it is shown as is).
 * The random id stays beside it, never alone. Pure functions over the job
 * record and, when the notebook is open, the cell that launched the job.
 */
import { IJob } from './api';

/** The display name jobs get when none is chosen (core/models.py). */
const DEFAULT_NAME = 'containerjob';

/** The label a schedule puts on the jobs it starts (job.spec.labels). */
export const SCHEDULE_LABEL = 'containerjob-schedule';

/** Where an open notebook holds the cell that launched a job. */
export interface ICellPlace {
  /** 1-based position of the cell in its notebook. */
  number: number;
  /** The cell's code. */
  source: string;
}

/** The last part of a path. */
export function baseName(path: string): string {
  return path.replace(/\/+$/, '').replace(/^.*\//, '');
}

/** The first line of a cell's code that says something (no magic, comment or blank). */
export function firstCodeLine(source: string): string {
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line && !line.startsWith('%') && !line.startsWith('#')) {
      return line;
    }
  }
  return '';
}

function kindOf(job: IJob): string {
  const kind = (job.spec as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : '';
}

function chosenName(job: IJob): string {
  return job.name && job.name !== job.id && job.name !== DEFAULT_NAME
    ? job.name
    : '';
}

/**
 * The name a job goes by in lists and on its page, without its id (show
 * the id beside it).
 */
export function readableName(job: IJob, place?: ICellPlace | null): string {
  const chosen = chosenName(job);
  if (chosen) {
    return chosen;
  }
  const origin = baseName(job.origin || '');
  switch (kindOf(job)) {
    case 'cell': {
      const where = origin || 'notebook';
      if (place) {
        const line = firstCodeLine(place.source);
        return `${where} · cell ${place.number}${line ? `: ${line}` : ''}`;
      }
      return `${where} · cell`;
    }
    case 'notebook':
      return origin || 'notebook';
    case 'script':
      return origin || 'script';
    case 'container': // a record written without a name
      return baseName(job.image || '') || 'container';
    default:
      return origin || job.id;
  }
}

/** The schedule that started the job (its id), or an empty string. */
export function scheduleOf(job: IJob): string {
  const labels = (job.spec as { labels?: Record<string, unknown> }).labels;
  const value = labels?.[SCHEDULE_LABEL];
  return typeof value === 'string' ? value : '';
}

/** Everything a search box matches a job against, lower-cased. */
export function searchText(job: IJob, name: string): string {
  return [name, job.id, job.image, job.origin, job.backend, scheduleOf(job)]
    .join('\n')
    .toLowerCase();
}
