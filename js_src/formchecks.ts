/**
 * What each launch form checks before anything runs: the `%%containerjob`
 * line as the magic reads it (`POST magic`) and the parameter texts as
 * typed values (`POST notebooks/parameters`),
 * then the checks of the CLI and the magic (`POST jobs/validate`,
 * `POST schedules/validate`); and the requests the forms send.
 */
import {
  ContainerJobAPI,
  IFieldProblem,
  IMagicLine,
  INotebookParameter,
  IScheduleRequest,
  ISubmitJob
} from './api';

import { containerJob, containerProblems } from './container';

import { writeLine } from './magicline';

import { IFormValues } from './widgets/submitform';

/** The form's own problems, then the server's for the fields they leave alone. */
export function merged(
  own: readonly IFieldProblem[],
  server: readonly IFieldProblem[]
): IFieldProblem[] {
  const fields = new Set(own.map(problem => problem.field));
  return [...own, ...server.filter(problem => !fields.has(problem.field))];
}

/** A cell's `%%containerjob` line: the form's fields, then its Other flags as typed. */
export function cellLine(
  api: ContainerJobAPI,
  values: IFormValues
): Promise<IMagicLine> {
  return writeLine(api, values.options, values.rest);
}

/** What the magic would refuse on the line the cell form writes. */
export async function cellProblems(
  api: ContainerJobAPI,
  values: IFormValues,
  source: string
): Promise<IFieldProblem[]> {
  const written = await cellLine(api, values);
  const server = await api.validateJob({
    kind: 'cell',
    source,
    options: written.options
  });
  return merged(written.problems, server);
}

/**
 * The parameters to send: the texts changed from their defaults, typed by
 * the server.
 *
 * @throws {Error} naming a parameter text that does not fit its type.
 */
export async function typedParameters(
  api: ContainerJobAPI,
  declared: INotebookParameter[],
  texts: Record<string, string>
): Promise<Record<string, unknown>> {
  const typed = await api.typeParameters(declared, texts);
  if (typed.problems.length) {
    throw new Error(typed.problems[0].message);
  }
  return typed.values;
}

/**
 * The `POST jobs` body of a notebook run: only the parameters changed from
 * their defaults.
 *
 * @throws {Error} naming a parameter text that does not fit its type.
 */
export async function notebookJob(
  api: ContainerJobAPI,
  path: string,
  declared: INotebookParameter[],
  values: IFormValues
): Promise<ISubmitJob> {
  return {
    kind: 'notebook',
    path,
    parameters: await typedParameters(api, declared, values.parameters),
    options: values.options,
    origin: path
  };
}

/** What `POST jobs` would refuse in the notebook form's values. */
export async function notebookProblems(
  api: ContainerJobAPI,
  path: string,
  declared: INotebookParameter[],
  values: IFormValues
): Promise<IFieldProblem[]> {
  const { values: parameters, problems: own } = await api.typeParameters(
    declared,
    values.parameters
  );
  const body: ISubmitJob = own.length
    ? { kind: 'notebook', path, options: values.options }
    : {
        kind: 'notebook',
        path,
        parameters,
        options: values.options,
        origin: path
      };
  return merged(own, await api.validateJob(body));
}

/** What `POST jobs` would refuse in the container form's values. */
export async function containerFormProblems(
  api: ContainerJobAPI,
  values: IFormValues
): Promise<IFieldProblem[]> {
  const config = values.config ?? '';
  return merged(
    containerProblems(values.options, config),
    await api.validateJob(containerJob(values.options, values.args, config))
  );
}

/**
 * The `POST schedules` body: Max concurrent as a number when it is a whole
 * number, else as typed so that the server names it (never a silent 1).
 *
 * @throws {Error} naming a parameter text that does not fit its type.
 */
export async function scheduleBody(
  api: ContainerJobAPI,
  path: string,
  declared: INotebookParameter[],
  values: IFormValues
): Promise<IScheduleRequest> {
  const { max_concurrent: count, ...schedule } = values.schedule;
  return {
    ...schedule,
    ...(count
      ? { max_concurrent: /^\d+$/.test(count) ? Number(count) : count }
      : {}),
    notebook: path,
    parameters: await typedParameters(api, declared, values.parameters),
    options: values.options
  };
}

/** What `POST schedules` would refuse in the schedule form's values. */
export async function scheduleProblems(
  api: ContainerJobAPI,
  path: string,
  declared: INotebookParameter[],
  values: IFormValues
): Promise<IFieldProblem[]> {
  const { problems: own } = await api.typeParameters(
    declared,
    values.parameters
  );
  const body = await scheduleBody(
    api,
    path,
    own.length ? [] : declared,
    values
  );
  return merged(own, await api.validateSchedule(body));
}
