/**
 * What each launch form checks before anything runs: first the rules only
 * the browser can apply (the `%%containerjob` line's words, parameter
 * texts, a container's Arguments), then the server's, which are the CLI's
 * and the magic's (`POST jobs/validate`, `POST schedules/validate`); and
 * the requests the forms send.
 */
import {
  ContainerJobAPI,
  IFieldProblem,
  INotebookParameter,
  IScheduleRequest,
  ISubmitJob
} from './api';

import { containerJob, containerProblems } from './container';

import {
  LineError,
  lineProblems,
  lineWords,
  magicWords,
  wordOptions
} from './magicline';

import { changedParameters, parameterProblems } from './parameters';

import { IFormValues } from './widgets/submitform';

/** The form's own problems, then the server's for the fields they leave alone. */
export function merged(
  own: readonly IFieldProblem[],
  server: readonly IFieldProblem[]
): IFieldProblem[] {
  const fields = new Set(own.map(problem => problem.field));
  return [...own, ...server.filter(problem => !fields.has(problem.field))];
}

/**
 * A cell's `%%containerjob` words: the form's fields, then its Other flags
 * as typed.
 *
 * @throws {LineError} when Other flags has an unclosed quote.
 */
export function cellWords(values: IFormValues): string[] {
  return lineWords(values.options, magicWords(values.rest));
}

/** What the magic would refuse on the line the cell form writes. */
export async function cellProblems(
  api: ContainerJobAPI,
  values: IFormValues,
  source: string
): Promise<IFieldProblem[]> {
  const own = lineProblems(values.options);
  let words: string[];
  try {
    words = cellWords(values);
  } catch (reason) {
    if (!(reason instanceof LineError)) {
      throw reason;
    }
    own.push({ field: 'rest', message: reason.message });
    words = lineWords(values.options);
  }
  const server = await api.validateJob({
    kind: 'cell',
    source,
    options: wordOptions(words)
  });
  return merged(own, server);
}

/**
 * The `POST jobs` body of a notebook run: only the parameters changed from
 * their defaults.
 *
 * @throws {Error} naming a parameter text that does not fit its type.
 */
export function notebookJob(
  path: string,
  declared: INotebookParameter[],
  values: IFormValues
): ISubmitJob {
  return {
    kind: 'notebook',
    path,
    parameters: changedParameters(declared, values.parameters),
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
  const own = parameterProblems(declared, values.parameters);
  const body: ISubmitJob = own.length
    ? { kind: 'notebook', path, options: values.options }
    : notebookJob(path, declared, values);
  return merged(own, await api.validateJob(body));
}

/** What `POST jobs` would refuse in the container form's values. */
export async function containerFormProblems(
  api: ContainerJobAPI,
  values: IFormValues
): Promise<IFieldProblem[]> {
  const config = values.config ?? '';
  const own = containerProblems(values.options, values.args, config);
  const body: ISubmitJob = own.some(problem => problem.field === 'args')
    ? containerJob(values.options, '', config)
    : containerJob(values.options, values.args, config);
  return merged(own, await api.validateJob(body));
}

/**
 * The `POST schedules` body: Max concurrent as a number when it is a whole
 * number, else as typed so that the server names it (never a silent 1).
 *
 * @throws {Error} naming a parameter text that does not fit its type.
 */
export function scheduleBody(
  path: string,
  declared: INotebookParameter[],
  values: IFormValues
): IScheduleRequest {
  const { max_concurrent: count, ...schedule } = values.schedule;
  return {
    ...schedule,
    ...(count
      ? { max_concurrent: /^\d+$/.test(count) ? Number(count) : count }
      : {}),
    notebook: path,
    parameters: changedParameters(declared, values.parameters),
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
  const own = parameterProblems(declared, values.parameters);
  const body = scheduleBody(path, own.length ? [] : declared, values);
  return merged(own, await api.validateSchedule(body));
}
