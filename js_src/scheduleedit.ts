/**
 * Editing a schedule from the sidebar: the schedule form opens with the
 * schedule's own values, and saving sends `PATCH schedules/{id}` with what
 * the form shows. Its snapshot is kept (no `notebook` is sent), and so are
 * the run options the form has no field for (set from the CLI).
 */
import {
  ContainerJobAPI,
  IFieldProblem,
  INotebookParameter,
  IRunOptions,
  IScheduleRequest,
  ISchedule,
  RunOptionName
} from './api';

import { IBackendChoice } from './backends';

import { merged, typedParameters } from './formchecks';

import { onForm } from './widgets/formfields';

import { IFormValues } from './widgets/submitform';

/** The form's starting values: the schedule's fields, parameter texts and options. */
export function editInitial(schedule: ISchedule): {
  schedule: IFormValues['schedule'];
  parameterTexts: Record<string, string>;
  options: IRunOptions;
} {
  const parameterTexts: Record<string, string> = {};
  for (const [name, value] of Object.entries(schedule.parameters ?? {})) {
    parameterTexts[name] =
      typeof value === 'string' ? value : JSON.stringify(value);
  }
  return {
    schedule: {
      name: schedule.name,
      cron: schedule.cron,
      timezone: schedule.timezone,
      missed: schedule.missed,
      max_concurrent: String(schedule.max_concurrent)
    },
    parameterTexts,
    options: { ...schedule.options, backend: schedule.backend }
  };
}

/**
 * The `PATCH` body: the form's fields; the options it has no control for
 * as they were; the parameters only when the notebook's were read (else
 * the schedule keeps its own).
 *
 * @throws {Error} naming a parameter text that does not fit its type.
 */
export async function editBody(
  api: ContainerJobAPI,
  schedule: ISchedule,
  backend: IBackendChoice | undefined,
  declared: INotebookParameter[],
  values: IFormValues
): Promise<Partial<IScheduleRequest>> {
  const { max_concurrent: count, ...fields } = values.schedule;
  const kept: IRunOptions = {};
  for (const [name, value] of Object.entries(schedule.options ?? {})) {
    if (!onForm(name as RunOptionName, backend, 'notebook')) {
      (kept as Record<string, unknown>)[name] = value;
    }
  }
  return {
    ...fields,
    ...(count
      ? { max_concurrent: /^\d+$/.test(count) ? Number(count) : count }
      : {}),
    ...(declared.length
      ? {
          parameters: await typedParameters(api, declared, values.parameters)
        }
      : {}),
    options: { ...kept, ...values.options }
  };
}

/** What `PATCH schedules/{id}` would refuse in the edit form's values. */
export async function editProblems(
  api: ContainerJobAPI,
  schedule: ISchedule,
  backend: IBackendChoice | undefined,
  declared: INotebookParameter[],
  values: IFormValues
): Promise<IFieldProblem[]> {
  const { problems: own } = await api.typeParameters(
    declared,
    values.parameters
  );
  const body = await editBody(
    api,
    schedule,
    backend,
    own.length ? [] : declared,
    values
  );
  return merged(own, await api.validateScheduleEdit(schedule.id, body));
}
