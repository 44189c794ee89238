/**
 * The form behind every launch action (a JupyterLab Dialog body): run
 * options prefilled from the settings, notebook parameters, schedule fields,
 * and the project the job will get, shown before anything is sent.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

import { Widget } from '@lumino/widgets';

import {
  INotebookParameter,
  IRunOptions,
  IServerSettings,
  JobKind,
  RunOptionName
} from '../api';

import { IBackendChoice, initialChoice } from '../backends';

import { defaultText } from '../parameters';

import { FIELDS, placeholder, shows } from './formfields';

import { h } from './dom';

/** What the form collects; option names as in `RunOptions`. */
export interface IFormValues {
  options: IRunOptions;
  /** The Arguments text as typed (container jobs); empty without the field. */
  args: string;
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
  /** Backends the user may pick (`backendChoices`); unavailable ones disabled. */
  backends: IBackendChoice[];
  /** What the form launches: the fields are those options of this kind of job. */
  kind: JobKind;
  /** Initial option values (settings defaults, then the last choice). */
  options: IRunOptions;
  /**
   * Options the user must fill in: their field says so instead of showing a
   * server default (the launcher refuses the form without them).
   */
  required?: RunOptionName[];
  /**
   * Show the Arguments field (container jobs), after the Command field,
   * with this text.
   */
  args?: string;
  server: IServerSettings | null;
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
    const backend = initialChoice(_opts.backends, initial.backend);

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
    for (const choice of _opts.backends) {
      const option = h('option', {
        text: choice.unavailable
          ? `${choice.label} (unavailable)`
          : choice.label,
        title: choice.unavailable ?? '',
        attrs: { value: choice.name }
      });
      option.disabled = choice.unavailable !== null;
      option.selected = choice === backend;
      this._backend.append(option);
    }
    this._backend.disabled = _opts.backends.length === 1;
    this.node.append(this._row('Backend', this._backend, 'Where the job runs'));
    this._project = h('p', { class: 'jp-ContainerJob-form-project' });
    this.node.append(this._unavailableNotes(), this._project);

    if (_opts.schedule) {
      this._scheduleFields(_opts.schedule);
    }
    const argsRow = _opts.args === undefined ? null : this._argsRow(_opts.args);
    for (const field of FIELDS) {
      const required = _opts.required?.includes(field.name) ?? false;
      const input = h('input', {
        class: 'jp-mod-styled',
        attrs: {
          name: field.name,
          type: 'text',
          placeholder: required ? 'required' : placeholder(field, _opts.server),
          spellcheck: 'false',
          // Not the `required` attribute: the Dialog would disable its
          // button without saying why; the launcher names the problem.
          ...(required ? { 'aria-required': 'true' } : {})
        },
        on: { input: () => this._update() }
      });
      const value = initial[field.name];
      input.value = typeof value === 'string' ? value : '';
      const row = this._row(field.form.label, input, field.help);
      this._inputs.set(field.name, { input, row });
      this.node.append(row);
      if (field.name === 'command' && argsRow) {
        this.node.append(argsRow);
      }
    }
    if (argsRow && !argsRow.parentNode) {
      this.node.append(argsRow);
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
    this._envRow = this._row(
      'Environment',
      this._env,
      'One NAME=VALUE per line'
    );
    this.node.append(this._envRow);

    if (_opts.parameters) {
      this._parameterFields(_opts.parameters, _opts.parameterTexts ?? {});
    }
    this._update();
  }

  getValue(): IFormValues {
    const options: IRunOptions = { backend: this._backend.value };
    for (const [name, { input }] of this._inputs) {
      const value = input.value.trim();
      if (value && this._shows(name)) {
        (options as Record<string, unknown>)[name] = value;
      }
    }
    const env = this._env.value
      .split('\n')
      .map(line => line.trim())
      .filter(Boolean);
    if (env.length && this._shows('env')) {
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
      args: this._args?.value.trim() ?? '',
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

  /** Whether the chosen backend takes option `name` for this kind of job. */
  private _shows(name: RunOptionName): boolean {
    const chosen = this._opts.backends.find(
      choice => choice.name === this._backend.value
    );
    return shows(name, chosen, this._opts.kind);
  }

  /** Show the fields the chosen backend takes, and the project. */
  private _update(): void {
    const backend = this._backend.value;
    for (const [name, { row }] of this._inputs) {
      row.hidden = !this._shows(name);
    }
    this._envRow.hidden = !this._shows('env');
    if (this._args) {
      // After a Command the image's CMD is dropped (Docker and Vertex AI alike).
      const command = this._inputs.get('command');
      const typed =
        command && this._shows('command') && command.input.value.trim();
      this._args.placeholder = typed ? 'none' : "none: the image's CMD";
    }

    const project = this._inputs.get('project');
    const typed =
      project && this._shows('project') ? project.input.value.trim() : '';
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

  /**
   * Why each unavailable backend cannot be picked: the server's own reason,
   * next to the select, so nothing is left out silently.
   */
  private _unavailableNotes(): HTMLElement {
    const notes = this._opts.backends
      .filter(choice => choice.unavailable !== null)
      .map(choice =>
        h('li', { attrs: { 'data-backend': choice.name } }, [
          h('strong', { text: choice.label }),
          ` is unavailable: ${choice.unavailable}`
        ])
      );
    const list = h('ul', { class: 'jp-ContainerJob-form-warning' }, notes);
    list.hidden = notes.length === 0;
    return list;
  }

  /**
   * The Arguments field of a container job: one line, split into words as
   * the server splits the Command (quotes group, a backslash escapes).
   */
  private _argsRow(text: string): HTMLElement {
    this._args = h('input', {
      class: 'jp-mod-styled',
      attrs: { name: 'args', type: 'text', spellcheck: 'false' }
    });
    this._args.value = text;
    return this._row(
      'Arguments',
      this._args,
      "Words given to the program in place of the image's CMD (Vertex AI's containerSpec.args), split as a shell would: " +
        'spaces separate words, \'…\' or "…" keep one together, a backslash escapes; never run by a shell'
    );
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
  private _project: HTMLElement;
  private _env: HTMLTextAreaElement;
  private _envRow: HTMLElement;
  private _args: HTMLInputElement | null = null;
  private _inputs = new Map<
    RunOptionName,
    { input: HTMLInputElement; row: HTMLElement }
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
    focusNodeSelector: '.jp-ContainerJob-form-row:not([hidden]) input'
  });
  return result.button.accept ? result.value : null;
}
