/**
 * The run-option fields of the launch forms: the option table's rows that
 * declare a `form`, each shown for the backends that take it.
 */
import { IServerSettings, JobKind, RunOptionName } from '../api';

import { IBackendChoice } from '../backends';

import { IFormSpec, IRunOptionSpec, RUN_OPTIONS } from '../options.generated';

/** A row of the option table that the forms show as a text field. */
export type FieldSpec = IRunOptionSpec & { form: IFormSpec };

/** The form's fields, in the table's order. */
export const FIELDS: readonly FieldSpec[] = RUN_OPTIONS.filter(
  (row): row is FieldSpec => row.form !== null
);

const ROWS = new Map(RUN_OPTIONS.map(row => [row.name, row]));

/**
 * The value a field's job gets when the field is left empty: the server
 * setting the row names (Python's settings, `GET settings`); '' when the
 * row names none or the server has no value for it.
 */
export function serverDefault(
  field: FieldSpec,
  server: IServerSettings | null
): string {
  const { setting } = field.form;
  const value = setting && server?.[setting as keyof IServerSettings];
  return typeof value === 'string' ? value : '';
}

/**
 * A field's placeholder: the value of the server setting the row names, so
 * the user sees the default the job gets; else the row's own text.
 */
export function placeholder(
  field: FieldSpec,
  server: IServerSettings | null
): string {
  return serverDefault(field, server) || field.form.placeholder;
}

/**
 * Whether `backend` runs on Google Cloud: it takes a region (Vertex AI's
 * backends do, the local engine does not). A form for another backend says
 * nothing of Google Cloud: no project line, no Project field.
 */
export function onGoogleCloud(backend: IBackendChoice | undefined): boolean {
  return !!backend?.options.has('region');
}

/** Options a form shows only for a Google Cloud backend (`onGoogleCloud`). */
const GOOGLE_CLOUD_FIELDS: ReadonlySet<RunOptionName> = new Set<RunOptionName>([
  'project'
]);

/** Whether a form for `kind` jobs shows option `name` on `backend`. */
export function shows(
  name: RunOptionName,
  backend: IBackendChoice | undefined,
  kind: JobKind
): boolean {
  return (
    !!backend?.options.has(name) &&
    !!ROWS.get(name)?.kinds.includes(kind) &&
    (!GOOGLE_CLOUD_FIELDS.has(name) || onGoogleCloud(backend))
  );
}

/**
 * Whether a form for `kind` jobs sends option `name` on `backend`: what it
 * shows, and the project even where it is not shown (a local job still gets
 * the project from the user's settings injected: it is explicit in every job).
 */
export function sends(
  name: RunOptionName,
  backend: IBackendChoice | undefined,
  kind: JobKind
): boolean {
  return (
    shows(name, backend, kind) ||
    (GOOGLE_CLOUD_FIELDS.has(name) &&
      !!backend?.options.has(name) &&
      !!ROWS.get(name)?.kinds.includes(kind))
  );
}

/** The NAME=VALUE list options a form has a text box for. */
export type EnvOption = 'env' | 'secret_env';

/** Those text boxes: option, label, help. */
export const ENV_FIELDS: readonly (readonly [EnvOption, string, string])[] = [
  ['env', 'Environment', 'One NAME=VALUE per line'],
  [
    'secret_env',
    'Secret environment',
    'One NAME=VALUE per line: the job gets the values, everything else shows ***'
  ]
];

/** The run options a form has a control for: the backend, the fields, the environments. */
const ON_FORM: ReadonlySet<RunOptionName> = new Set<RunOptionName>([
  'backend',
  ...FIELDS.map(field => field.name),
  ...ENV_FIELDS.map(([name]) => name)
]);

/** Whether a form for `kind` jobs has a control for option `name` on `backend`. */
export function onForm(
  name: RunOptionName,
  backend: IBackendChoice | undefined,
  kind: JobKind
): boolean {
  return ON_FORM.has(name) && shows(name, backend, kind);
}
