/**
 * How every launch action runs its form: what the form shows besides the
 * fields (server defaults, the backends that can do the action), and the
 * loop that reopens it with each problem next to its field until the
 * values are accepted or the user cancels.
 */
import { showErrorMessage } from '@jupyterlab/apputils';

import {
  BackendName,
  ContainerJobAPI,
  IBackendInfo,
  IServerSettings,
  describeError,
  fieldProblems
} from './api';

import {
  IBackendChoice,
  Purpose,
  backendChoices,
  blockedBy,
  withAvailability
} from './backends';

import { IFormOptions, IFormValues, askForm } from './widgets/submitform';

/**
 * What every form shows besides the fields: server defaults, and the
 * backends that can do `purpose` (the action's own when the server is mute).
 */
export async function context(
  api: ContainerJobAPI,
  purpose: Purpose,
  preferred: BackendName
): Promise<{
  server: IServerSettings | null;
  backends: IBackendChoice[];
  availability: () => Promise<IBackendInfo[] | null>;
}> {
  const availability = () => api.backends().catch(() => null);
  const [server, infos] = await Promise.all([
    api.settings().catch(() => null),
    availability()
  ]);
  return {
    server,
    backends: backendChoices(infos, purpose, preferred),
    availability
  };
}

/**
 * Show a form until the user cancels or `submit` accepts the values. Values
 * with problems (the form's `validate`, or the server's refusal) reopen it
 * as it was, each problem next to its field; nothing is submitted before
 * `validate` finds none.
 */
export async function formLoop<T>(
  title: string,
  label: string,
  options: IFormOptions,
  submit: (values: IFormValues) => Promise<T>
): Promise<T | null> {
  if (!options.backends.length) {
    await showErrorMessage(
      title,
      'No backend of this Jupyter server can do this (GET /containerjob/backends lists what each one can do).'
    );
    return null;
  }
  let current = options;
  for (;;) {
    const values = await askForm(title, label, current);
    if (!values) {
      return null;
    }
    // As the server says it now: the form may have been open a while.
    const backends = withAvailability(
      current.backends,
      (await options.availability?.()) ?? null
    );
    const blocked = blockedBy(backends, values.options.backend);
    let problems = blocked
      ? [{ field: 'options.backend', message: blocked }]
      : ((await options.validate?.(values).catch(() => [])) ?? []);
    if (!problems.length) {
      try {
        return await submit(values);
      } catch (reason) {
        problems = fieldProblems(reason) ?? [];
        if (!problems.length) {
          await showErrorMessage(title, describeError(reason));
        }
      }
    }
    current = {
      ...current,
      backends,
      options: values.options,
      args: current.args === undefined ? undefined : values.args,
      config: current.config === undefined ? undefined : values.config,
      rest: current.rest === undefined ? undefined : values.rest,
      parameterTexts: values.parameters,
      schedule: current.schedule ? values.schedule : undefined,
      problems
    };
  }
}
