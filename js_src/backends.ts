/**
 * Which backends a launch action offers and what each takes, read from the
 * server's `GET backends` (plugins add backends the UI cannot know of).
 *
 * Pure functions over the server's answer, so the rules are testable alone.
 */
import {
  BackendName,
  BuiltinBackend,
  IBackendInfo,
  JobKind,
  RunOptionName
} from './api';

import { RUN_OPTIONS } from './options.generated';

/** Labels of the built-ins, for a server that sends none or did not answer. */
export const BACKEND_LABELS: Record<BuiltinBackend, string> = {
  local: 'Local container (Docker)',
  vertex: 'Vertex AI CustomJob',
  executor: 'Vertex AI Workbench Executor'
};

/** What a launch action asks of a backend; a schedule runs a notebook. */
export type Purpose =
  Extract<JobKind, 'cell' | 'notebook' | 'container'> | 'schedule';

/** A backend as a launch form offers it. */
export interface IBackendChoice {
  name: BackendName;
  label: string;
  /** Why it cannot run now (shown, the choice disabled); `null` when it can. */
  unavailable: string | null;
  /** The run options it takes. */
  options: ReadonlySet<RunOptionName>;
}

/**
 * Options of the table that `backend` takes by the table alone: used when
 * the server did not say (`backends: null` rows are for every backend).
 */
export function tableOptions(backend: BackendName): RunOptionName[] {
  return RUN_OPTIONS.filter(
    row => row.backends === null || row.backends.includes(backend)
  ).map(row => row.name);
}

/** Whether a backend can do what `purpose` needs. */
function serves(info: IBackendInfo, purpose: Purpose): boolean {
  const { kinds, schedules } = info.capabilities;
  return purpose === 'schedule'
    ? schedules && kinds.includes('notebook')
    : kinds.includes(purpose);
}

/** A label for `name`: the server's, else the built-in one, else the name. */
export function backendLabel(name: BackendName, label = ''): string {
  return label || BACKEND_LABELS[name as BuiltinBackend] || name;
}

/**
 * The backends a form offers for `purpose`, in the server's order: those
 * lacking the capability are left out, unavailable ones kept with their
 * reason. `infos` is `null` when the server did not answer: then only the
 * action's own `preferred` backend, with the table's options.
 */
export function backendChoices(
  infos: readonly IBackendInfo[] | null,
  purpose: Purpose,
  preferred: BackendName
): IBackendChoice[] {
  if (infos === null) {
    return [
      {
        name: preferred,
        label: backendLabel(preferred),
        unavailable: null,
        options: new Set(tableOptions(preferred))
      }
    ];
  }
  return infos
    .filter(info => serves(info, purpose))
    .map(info => ({
      name: info.name,
      label: backendLabel(info.name, info.label),
      unavailable: unavailableReason(info),
      options: new Set(info.options)
    }));
}

/**
 * The choice a form starts on: `wanted` when offered, even unavailable (the
 * form then says why and holds Submit: never a silent switch to another
 * backend, e.g. from a stopped Docker engine to a paid cloud run), else the
 * first available one, else the first.
 */
export function initialChoice(
  choices: readonly IBackendChoice[],
  wanted: BackendName | undefined
): IBackendChoice | undefined {
  return (
    choices.find(choice => choice.name === wanted) ??
    choices.find(choice => choice.unavailable === null) ??
    choices[0]
  );
}

/**
 * Why the form cannot submit to backend `name` now, or `null` when it can:
 * an unavailable backend, with the server's reason and what to do.
 */
export function blockedBy(
  choices: readonly IBackendChoice[],
  name: BackendName | undefined
): string | null {
  const choice = choices.find(c => c.name === name);
  if (!choice) {
    return name ? `backend ${name} is not offered for this action` : null;
  }
  if (choice.unavailable === null) {
    return null;
  }
  const others = choices.some(c => c.unavailable === null)
    ? 'pick another backend, or fix it and open the form again'
    : 'fix it and open the form again';
  return `${choice.label} is unavailable: ${choice.unavailable}; ${others}`;
}

/**
 * The choices with availability as the server says it now (`infos`);
 * unchanged when the server did not answer.
 */
export function withAvailability(
  choices: readonly IBackendChoice[],
  infos: readonly IBackendInfo[] | null
): IBackendChoice[] {
  if (infos === null) {
    return [...choices];
  }
  return choices.map(choice => {
    const info = infos.find(i => i.name === choice.name);
    return info
      ? { ...choice, unavailable: unavailableReason(info) }
      : { ...choice, unavailable: 'the server no longer lists it' };
  });
}

function unavailableReason(info: IBackendInfo): string | null {
  return info.available
    ? null
    : info.message || 'the server says it cannot run jobs now';
}
