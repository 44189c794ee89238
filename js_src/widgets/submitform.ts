/**
 * The form behind every launch action (a JupyterLab Dialog body): run
 * options prefilled from the settings, notebook parameters, schedule fields,
 * and the project the job will get, shown before anything is sent.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

import { Widget } from '@lumino/widgets';

import {
  BackendName,
  IBackendInfo,
  INotebookParameter,
  IRunOptions,
  IServerSettings
} from '../api';

import { defaultText } from '../parameters';

import { BACKEND_LABELS, FIELDS, Field, IFieldSpec } from './formfields';

import { h } from './dom';

/** What the form collects; option names as in `RunOptions`. */
export interface IFormValues {
  options: IRunOptions;
  /** Parameter texts as typed, by name. */
  parameters: Record<string, string>;
  schedule: {
    name: string;
    cron: string;
    timezone: string;
    missed: 'skip' | 'run_once';
    max_concurrent: number;
  };
}

export interface IFormOptions {
  /** Backends the user may pick; the first is the default when none is set. */
  backends: BackendName[];
  /** Initial option values (settings defaults, then the last choice). */
  options: IRunOptions;
  server: IServerSettings | null;
  backendInfo: IBackendInfo[];
  /** Declared parameters of the notebook (notebook and schedule forms). */
  parameters?: INotebookParameter[];
  /** Parameter texts from a previous attempt. */
  parameterTexts?: Record<string, string>;
  /** Show the schedule fields. */
  schedule?: Partial<IFormValues['schedule']>;
  /** A line above the fields, e.g. the notebook path. */
  subject?: string;
}

/**
 * The dialog body. `getValue()` returns what the user entered; the caller
 * converts and submits it, and reopens the form with those values when the
 * server refuses them.
 */
export class SubmitForm
  extends Widget
  implements Dialog.IBodyWidget<IFormValues>
{
  constructor(private readonly _opts: IFormOptions) {
    super();
    this.addClass('jp-ContainerJob-form');
    const initial = _opts.options;
    const backend =
      initial.backend && _opts.backends.includes(initial.backend as BackendName)
        ? (initial.backend as BackendName)
        : _opts.backends[0];

    if (_opts.subject) {
      this.node.append(
        h('p', { class: 'jp-ContainerJob-form-subject', text: _opts.subject })
      );
    }
    this._backend = h('select', {
      class: 'jp-mod-styled',
      attrs: { name: 'backend' },
      on: { change: () => this._update() }
    });
    for (const name of _opts.backends) {
      const option = h('option', {
        text: BACKEND_LABELS[name],
        attrs: { value: name }
      });
      option.selected = name === backend;
      this._backend.append(option);
    }
    this._backend.disabled = _opts.backends.length === 1;
    this.node.append(this._row('Backend', this._backend, 'Where the job runs'));
    this._availability = h('p', { class: 'jp-ContainerJob-form-warning' });
    this._project = h('p', { class: 'jp-ContainerJob-form-project' });
    this.node.append(this._project, this._availability);

    if (_opts.schedule) {
      this._scheduleFields(_opts.schedule);
    }
    for (const [field, spec] of FIELDS) {
      const input = h('input', {
        class: 'jp-mod-styled',
        attrs: {
          name: field,
          type: 'text',
          placeholder: spec.placeholder?.(_opts.server) ?? '',
          spellcheck: 'false'
        },
        on: { input: () => this._update() }
      });
      const value = initial[field];
      input.value = typeof value === 'string' ? value : '';
      const row = this._row(spec.label, input, spec.help);
      this._inputs.set(field, { input, row, spec });
      this.node.append(row);
    }
    this._env = h('textarea', {
      class: 'jp-mod-styled',
      attrs: {
        name: 'env',
        rows: '2',
        placeholder: 'NAME=VALUE, one per line',
        spellcheck: 'false'
      }
    });
    this._env.value = (initial.env ?? []).join('\n');
    this.node.append(
      this._row('Environment', this._env, 'One NAME=VALUE per line')
    );

    if (_opts.parameters) {
      this._parameterFields(_opts.parameters, _opts.parameterTexts ?? {});
    }
    this._update();
  }

  getValue(): IFormValues {
    const options: IRunOptions = { backend: this._backend.value };
    for (const [field, { input, spec }] of this._inputs) {
      const value = input.value.trim();
      if (value && spec.backends.includes(this._backend.value as BackendName)) {
        (options as Record<string, unknown>)[field] = value;
      }
    }
    const env = this._env.value
      .split('\n')
      .map(line => line.trim())
      .filter(Boolean);
    if (env.length) {
      options.env = env;
    }
    const parameters: Record<string, string> = {};
    for (const [name, input] of this._parameters) {
      parameters[name] = input.value;
    }
    const text = (name: string): string =>
      (this._schedule.get(name)?.value ?? '').trim();
    return {
      options,
      parameters,
      schedule: {
        name: text('name'),
        cron: text('cron'),
        timezone: text('timezone'),
        missed: text('missed') === 'run_once' ? 'run_once' : 'skip',
        max_concurrent: Math.max(1, parseInt(text('max_concurrent'), 10) || 1)
      }
    };
  }

  /** Show the fields of the chosen backend, its availability, the project. */
  private _update(): void {
    const backend = this._backend.value as BackendName;
    for (const { row, spec } of this._inputs.values()) {
      row.hidden = !spec.backends.includes(backend);
    }
    const info = this._opts.backendInfo.find(b => b.name === backend);
    this._availability.textContent =
      info && !info.available
        ? `Server check for ${BACKEND_LABELS[backend]}: ${info.message}`
        : '';
    this._availability.hidden = !this._availability.textContent;

    const typed = this._inputs.get('project')!.input.value.trim();
    const server = this._opts.server;
    this._project.replaceChildren();
    if (typed) {
      this._project.append(
        'Project: ',
        h('strong', { text: typed }),
        ' (from this form)'
      );
    } else if (server?.project) {
      this._project.append(
        'Project: ',
        h('strong', { text: server.project }),
        server.project_source ? ` (from ${server.project_source})` : ''
      );
    } else {
      this._project.append(
        backend === 'local'
          ? 'No Google Cloud project: jobs run without one (set it here or in Settings to use Google Cloud APIs)'
          : 'No Google Cloud project: set one here or in Settings; Vertex AI needs it'
      );
    }
  }

  private _row(label: string, control: HTMLElement, help: string): HTMLElement {
    return h('label', { class: 'jp-ContainerJob-form-row', title: help }, [
      h('span', { class: 'jp-ContainerJob-form-label', text: label }),
      control
    ]);
  }

  private _scheduleFields(initial: Partial<IFormValues['schedule']>): void {
    const input = (
      name: string,
      value: string,
      placeholder: string
    ): HTMLInputElement => {
      const node = h('input', {
        class: 'jp-mod-styled',
        attrs: { name, type: 'text', placeholder, spellcheck: 'false' }
      });
      node.value = value;
      this._schedule.set(name, node);
      return node;
    };
    const missed = h(
      'select',
      { class: 'jp-mod-styled', attrs: { name: 'missed' } },
      [
        h('option', { text: 'Skip missed runs', attrs: { value: 'skip' } }),
        h('option', {
          text: 'Run once to catch up',
          attrs: { value: 'run_once' }
        })
      ]
    );
    missed.value = initial.missed ?? 'skip';
    this._schedule.set('missed', missed);
    this.node.append(
      this._row(
        'Name',
        input('name', initial.name ?? '', 'nightly report'),
        'Name of the schedule'
      ),
      this._row(
        'Cron',
        input('cron', initial.cron ?? '0 3 * * *', '0 3 * * *'),
        'minute hour day month weekday'
      ),
      this._row(
        'Time zone',
        input('timezone', initial.timezone ?? localTimeZone(), 'UTC'),
        'IANA time zone the cron is read in'
      ),
      this._row(
        'Missed runs',
        missed,
        'What happens to runs missed while the server was down'
      ),
      this._row(
        'Max concurrent',
        input('max_concurrent', String(initial.max_concurrent ?? 1), '1'),
        'Runs of this schedule allowed at once'
      )
    );
  }

  private _parameterFields(
    declared: INotebookParameter[],
    texts: Record<string, string>
  ): void {
    const section = h(
      'fieldset',
      { class: 'jp-ContainerJob-form-parameters' },
      [
        h('legend', {
          text: declared.length
            ? 'Parameters'
            : 'Parameters: none (no cell tagged "parameters")'
        })
      ]
    );
    for (const parameter of declared) {
      const input = h('input', {
        class: 'jp-mod-styled',
        attrs: {
          name: `parameter:${parameter.name}`,
          type: 'text',
          spellcheck: 'false'
        }
      });
      input.value = texts[parameter.name] ?? defaultText(parameter);
      this._parameters.set(parameter.name, input);
      const label = parameter.type
        ? `${parameter.name} (${parameter.type})`
        : parameter.name;
      section.append(
        this._row(
          label,
          input,
          parameter.help || `default ${defaultText(parameter)}`
        )
      );
    }
    this.node.append(section);
  }

  private _backend: HTMLSelectElement;
  private _availability: HTMLElement;
  private _project: HTMLElement;
  private _env: HTMLTextAreaElement;
  private _inputs = new Map<
    Field,
    { input: HTMLInputElement; row: HTMLElement; spec: IFieldSpec }
  >();
  private _parameters = new Map<string, HTMLInputElement>();
  private _schedule = new Map<string, HTMLInputElement | HTMLSelectElement>();
}

function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * Show the form; resolves with the values, or `null` when cancelled.
 */
export async function askForm(
  title: string,
  submitLabel: string,
  options: IFormOptions
): Promise<IFormValues | null> {
  const result = await showDialog<IFormValues>({
    title,
    body: new SubmitForm(options),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: submitLabel })],
    focusNodeSelector: 'input[name="image"]'
  });
  return result.button.accept ? result.value : null;
}
