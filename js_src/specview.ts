/**
 * The part of a job's spec that its backend uses: the spec mirrors Vertex
 * AI's CustomJobSpec for every backend, so a local job carries Vertex-only
 * fields (machine_type n1-standard-4, boot_disk_size_gb 100) it never used.
 * Which option sets which field, and which backend takes which option, is
 * the option table's (options.generated.ts); nothing is listed here.
 */
import { RunOptionName } from './api';

import { RUN_OPTIONS } from './options.generated';

/** The worker pools' key in a spec; their fields read `worker_pools.NAME`. */
const POOLS = 'worker_pools';

/** The backend's run options for one kind of job ('' for any). */
interface ITaken {
  options: ReadonlySet<RunOptionName>;
  kind: string;
}

/**
 * Whether spec field `path` applies: when an option the backend takes for
 * this kind of job sets it; a field no option sets shows when it has a value.
 */
function applies(path: string, value: unknown, taken: ITaken): boolean {
  const setters = RUN_OPTIONS.filter(row => row.spec.includes(path));
  if (setters.length) {
    return setters.some(
      row =>
        taken.options.has(row.name) &&
        (!taken.kind || row.kinds.includes(taken.kind))
    );
  }
  return !isEmpty(value);
}

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && Object.keys(value as object).length === 0)
  );
}

function pick(
  data: Record<string, unknown>,
  prefix: string,
  taken: ITaken
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(data).filter(([key, value]) =>
      applies(prefix + key, value, taken)
    )
  );
}

/**
 * `spec` without the fields the job's backend does not take (`options`:
 * the run options it takes, from `GET backends` or the table) for the
 * spec's kind of job.
 */
export function specForBackend(
  spec: Record<string, unknown>,
  options: ReadonlySet<RunOptionName>
): Record<string, unknown> {
  const taken = {
    options,
    kind: typeof spec.kind === 'string' ? spec.kind : ''
  };
  const shown = pick(spec, '', taken);
  const pools = spec[POOLS];
  if (Array.isArray(pools)) {
    shown[POOLS] = pools.map(pool =>
      pick(pool as Record<string, unknown>, `${POOLS}.`, taken)
    );
  }
  return shown;
}
