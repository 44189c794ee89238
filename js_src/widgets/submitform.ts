/**
 * The form behind every launch action (a JupyterLab Dialog body): run
 * options prefilled from the settings or the cell's line, notebook
 * parameters, schedule fields, and the project the job will get, shown
 * before anything is sent; what the server would refuse shows next to its
 * field while the user types.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';

import { Message } from '@lumino/messaging';

import { Debouncer } from '@lumino/polling';

import { Widget } from '@lumino/widgets';

import {
  IBackendInfo,
  ICustomJobFile,
  IFieldProblem,
  IMagicLine,
  IMagicLineRequest,
  INotebookParameter,
  IRunOptions,
  IServerSettings,
  JobKind,
  RunOptionName
} from '../api';

import { IBackendChoice, withAvailability } from '../backends';

import { fieldNames } from '../magicline';

import { filePlaceholders } from '../customjobfile';

import { disposeTimer } from '../polling';

import { PreviewSource } from './cronfield';

import { CustomJobField, CustomJobSource } from './customjobfield';

import {
  ENV_FIELDS,
  EnvOption,
  FIELDS,
  onForm,
  onGoogleCloud,
  placeholder,
  sends,
  shows
} from './formfields';

import { DefaultValues } from './fielddefaults';

import { ProblemSlots, RowFactory } from './formproblems';

import { ParameterFields } from './parameterfields';

import { IScheduleValues, ScheduleFields } from './schedulefields';

import { BackendPicker } from './backendpicker';

import { h } from './dom';

/** What the form collects; option names as in `RunOptions`. */
export interface IFormValues {
  options: IRunOptions;
  /** The Arguments text as typed (container jobs); empty without the field. */
  args: string;
  /** The Other flags text as typed (cell forms); empty without the field. */
  rest: string;
  /** The CustomJob file's path as typed (container jobs); absent without the field. */
  config?: string;
  /** Parameter texts as typed, by name. */
  parameters: Record<string, string>;
  schedule: IScheduleValues;
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
  /**
   * Show the CustomJob file field (container jobs) with this path, and what
   * the file sets as `readConfig` reads it.
   */
  config?: string;
  readConfig?: CustomJobSource;
  server: IServerSettings | null;
  /** Declared parameters of the notebook (notebook and schedule forms). */
  parameters?: INotebookParameter[];
  /** Parameter texts from a previous attempt. */
  parameterTexts?: Record<string, string>;
  /** Show the schedule fields. */
  schedule?: Partial<IFormValues['schedule']>;
  /** Where the schedule fields read their cron in words (the server). */
  preview?: PreviewSource;
  /** A line above the fields, e.g. the notebook path. */
  subject?: string;
  /**
   * Show the Other flags field (cell forms) with this text: the words of
   * the `%%containerjob` line no field shows, written back as typed.
   */
  rest?: string;
  /** Read a line with the magic's parser (`POST magic`): moves Other flags' words. */
  magicLine?: (body: IMagicLineRequest) => Promise<IMagicLine>;
  /** The backends as the server lists them now (`null`: no answer). */
  availability?: () => Promise<IBackendInfo[] | null>;
  /** What the server (and the form's own rules) would refuse in `values`. */
  validate?: (values: IFormValues) => Promise<IFieldProblem[]>;
  /** Problems to show at once, e.g. those that refused the last attempt. */
  problems?: IFieldProblem[];
}

/** The schedule values of a form without schedule fields. */
const NO_SCHEDULE: IScheduleValues = {
  name: '',
  cron: '',
  timezone: '',
  missed: 'skip',
  max_concurrent: ''
};

/** How long typing pauses before the values are checked. */
const CHECK_DELAY_MS = 350;

/** A text box's non-empty lines, trimmed. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean);
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
    this._defaults = new DefaultValues(_opts.server);
    this._revealed = (_opts.problems?.length ?? 0) > 0;
    // What the user changed: its problems show from then on (all of them once Run was pressed).
    for (const type of ['input', 'change']) {
      this.node.addEventListener(type, event =>
        this._problems
          .fieldsAt(event.target as Node)
          .forEach(field => this._touched.add(field))
      );
    }

    if (_opts.subject) {
      this.node.append(
        h('p', { class: 'jp-ContainerJob-form-subject', text: _opts.subject })
      );
    }
    this.node.append(this._problems.general);
    this._picker = new BackendPicker(_opts.backends, initial.backend, () =>
      this._backendChanged()
    );
    this._backend = this._picker.select;
    this._shownBackend = this._backend.value;
    this.node.append(
      this._row(
        'Backend',
        this._backend,
        'Where the job runs',
        'options.backend'
      )
    );
    this._project = h('p', { class: 'jp-ContainerJob-form-project' });
    this.node.append(this._picker.notes, this._project);

    if (_opts.schedule) {
      this._schedule = new ScheduleFields(
        _opts.schedule,
        this._row,
        () => this._update(),
        _opts.preview ?? null
      );
      this.node.append(...this._schedule.rows);
    }
    if (_opts.config) {
      this._touched.add('config'); // a file the user chose (file browser, cell line): its problems show at once
    }
    if (_opts.config !== undefined && _opts.readConfig) {
      this._config = new CustomJobField(
        _opts.config,
        this._row,
        () => this._update(),
        _opts.readConfig,
        file => this._fileLoaded(file)
      );
      this.node.append(...this._config.rows);
    }
    const argsRow = _opts.args === undefined ? null : this._argsRow(_opts.args);
    for (const field of FIELDS) {
      const required = _opts.required?.includes(field.name) ?? false;
      const input = h('input', {
        class: 'jp-mod-styled',
        attrs: {
          name: field.name,
          type: 'text',
          placeholder: this._placeholder(field.name),
          spellcheck: 'false',
          // Not the `required` attribute: the Dialog would disable its
          // button without saying why; the form names the problem.
          ...(required ? { 'aria-required': 'true' } : {})
        },
        on: { input: () => this._update() }
      });
      const control = this._defaults.control(field, input, required);
      const value = initial[field.name];
      this._defaults.fill(
        field.name,
        input,
        typeof value === 'string' ? value : ''
      );
      const row = this._row(
        field.form.label,
        control,
        field.help,
        `options.${field.name}`
      );
      this._inputs.set(field.name, { input, row });
      this.node.append(row);
      if (field.name === 'command' && argsRow) {
        this.node.append(argsRow);
      }
    }
    if (argsRow && !argsRow.parentNode) {
      this.node.append(argsRow);
    }
    for (const [name, label, help] of ENV_FIELDS) {
      const input = h('textarea', {
        class: 'jp-mod-styled',
        attrs: {
          name,
          rows: '2',
          placeholder: 'NAME=VALUE, one per line',
          spellcheck: 'false',
          autocomplete: 'off'
        },
        on: { input: () => this._update() }
      });
      input.value = (initial[name] ?? []).join('\n');
      const row = this._row(label, input, help, `options.${name}`);
      this._envs.set(name, { input, row });
      this.node.append(row);
    }
    if (_opts.rest !== undefined) {
      this.node.append(this._restRow(_opts.rest));
    }

    if (_opts.parameters) {
      this._parameters = new ParameterFields(
        _opts.parameters,
        _opts.parameterTexts ?? {},
        this._row,
        () => this._update(),
        this._problems
      );
      this.node.append(this._parameters.section);
    }
    this._held = h('p', {
      class: 'jp-ContainerJob-form-held',
      attrs: { role: 'status' }
    });
    this.node.append(this._held);
    this._update();
  }

  getValue(): IFormValues {
    const options: IRunOptions = { backend: this._backend.value };
    for (const [name, { input }] of this._inputs) {
      const value = this._defaults.typed(name, input);
      if (value && this._sends(name)) {
        (options as Record<string, unknown>)[name] = value;
      }
    }
    for (const [name, { input }] of this._envs) {
      const items = lines(input.value);
      if (items.length && this._shows(name)) {
        options[name] = items;
      }
    }
    return {
      options,
      args: this._args?.value.trim() ?? '',
      rest: this._rest?.value.trim() ?? '',
      ...(this._config ? { config: this._config.value } : {}),
      parameters: this._parameters?.values ?? {},
      schedule: this._schedule?.values ?? NO_SCHEDULE
    };
  }

  /**
   * Check the values as they open; problems the form opened with (what
   * refused the last attempt) stay until the user changes something.
   */
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    const problems = this._opts.problems ?? [];
    if (problems.length || !this._opts.validate) {
      this._showProblems(problems);
    } else {
      this._runCheck();
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this._cancelCheck();
    this._schedule?.dispose();
    this._config?.dispose();
    super.onBeforeDetach(msg);
  }

  dispose(): void {
    disposeTimer(this._checker);
    super.dispose();
  }

  /** A field's placeholder: required, or the default it gets when empty. */
  private _placeholder(name: RunOptionName): string {
    const field = FIELDS.find(f => f.name === name);
    if (this._opts.required?.includes(name)) {
      return 'required';
    }
    return field ? placeholder(field, this._opts.server) : '';
  }

  /**
   * The CustomJob file was read (`null`: none, or refused): the Image and
   * Command fields say what runs when left empty.
   */
  private _fileLoaded(file: ICustomJobFile | null): void {
    this._file = file;
    const texts = file ? filePlaceholders(file) : null;
    for (const name of ['image', 'command'] as const) {
      const input = this._inputs.get(name)?.input;
      if (input) {
        input.placeholder = texts?.[name] ?? this._placeholder(name);
      }
    }
    this._update();
  }

  /** Whether the chosen backend takes option `name` for this kind of job. */
  private _shows(name: RunOptionName): boolean {
    return shows(name, this._choice(this._backend.value), this._opts.kind);
  }

  private _sends(name: RunOptionName): boolean {
    return sends(name, this._choice(this._backend.value), this._opts.kind);
  }

  private _choice(name: string): IBackendChoice | undefined {
    return this._picker.choice(name);
  }

  /**
   * A new backend: in a cell form, the line's words move between the fields
   * and Other flags as the backend takes them, so none is lost.
   */
  private _backendChanged(): void {
    const before = this._choice(this._shownBackend);
    this._shownBackend = this._backend.value;
    if (this._rest && before && this._opts.magicLine) {
      void this._moveWords(before, this._opts.magicLine);
    }
    this._update();
  }

  /**
   * The line written with the fields the old backend showed, read back with
   * the new one's (`POST magic`); an answer that comes after another change
   * changes nothing.
   */
  private async _moveWords(
    before: IBackendChoice,
    magicLine: (body: IMagicLineRequest) => Promise<IMagicLine>
  ): Promise<void> {
    const shown: IRunOptions = {};
    for (const [name, { input }] of this._inputs) {
      const value = this._defaults.typed(name, input);
      if (shows(name, before, this._opts.kind) && value) {
        (shown as Record<string, unknown>)[name] = value;
      }
    }
    for (const [name, { input }] of this._envs) {
      if (shows(name, before, this._opts.kind)) {
        shown[name] = lines(input.value);
      }
    }
    const backend = this._backend.value;
    const chosen = this._choice(backend);
    const typed = this._rest!.value;
    const line = await magicLine({
      options: shown,
      rest: typed,
      fields: fieldNames(name => onForm(name, chosen, this._opts.kind))
    }).catch(() => null);
    if (
      !line ||
      this.isDisposed ||
      backend !== this._backend.value ||
      typed !== this._rest!.value
    ) {
      return;
    }
    for (const [name, { input }] of this._inputs) {
      const value = line.fields[name];
      this._defaults.fill(name, input, typeof value === 'string' ? value : '');
    }
    for (const [name, { input }] of this._envs) {
      input.value = (line.fields[name] ?? []).join('\n');
    }
    this._rest!.value = line.rest;
    this._update();
  }

  /** Show the fields the chosen backend takes, and the project; check. */
  private _update(): void {
    const backend = this._backend.value;
    for (const [name, { row }] of this._inputs) {
      row.hidden = !this._shows(name);
    }
    for (const [name, { row }] of this._envs) {
      row.hidden = !this._shows(name);
    }
    if (this._args) {
      // After a Command the image's CMD is dropped (Docker and Vertex AI alike).
      const command = this._inputs.get('command');
      const typed =
        command && this._shows('command') && command.input.value.trim();
      this._args.placeholder =
        this._file && !typed
          ? filePlaceholders(this._file).args
          : typed
            ? 'none'
            : "none: the image's CMD";
    }

    const project = this._inputs.get('project');
    const typed =
      project && this._shows('project')
        ? this._defaults.typed('project', project.input)
        : '';
    const server = this._opts.server;
    this._project.replaceChildren();
    // A local form says nothing of Google Cloud: nothing there needs a project.
    this._project.hidden = !onGoogleCloud(this._choice(backend));
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
        'No Google Cloud project: set one here or in Settings; Vertex AI needs it'
      );
    }
    this._schedule?.showPreview();
    if (this.isAttached) {
      this._holdAccept();
      this._check();
    }
  }

  /** Check the values after a pause in typing (see `_runCheck`). */
  private _check(): void {
    if (this._opts.validate && !this._checker.isDisposed) {
      this._round++;
      void this._checker.invoke();
    }
  }

  /**
   * Check the values now: the answer shows next to each field, and the
   * submit button waits until none is left; the backends' availability is
   * read again with it. Only the latest check's answer counts; one that
   * cannot be made shows nothing (submitting checks again).
   */
  private _runCheck(): void {
    const validate = this._opts.validate;
    if (!validate) {
      return;
    }
    const round = ++this._round;
    const current = (): boolean => round === this._round && !this.isDisposed;
    void this._opts.availability?.().then(infos => {
      if (current()) {
        this._picker.update(withAvailability(this._picker.choices, infos));
        this._holdAccept();
      }
    });
    validate(this.getValue()).then(
      problems => {
        if (current()) {
          this._showProblems(problems);
        }
      },
      () => undefined
    );
  }

  private _cancelCheck(): void {
    void this._checker.stop();
    this._round++;
  }

  /**
   * Show the problems of the fields the user changed; all of them once Run
   * was pressed (the form reopened with `problems`): a form that opens is
   * not red before anything was typed, and Run stays free to show the rest.
   */
  private _showProblems(problems: readonly IFieldProblem[]): void {
    const shown = this._revealed
      ? problems
      : problems.filter(
          ({ field }) =>
            this._touched.has(field) ||
            this._touched.has(this._place(field) ?? field)
        );
    this._problems.show(shown, field => this._place(field));
    this._problemCount = shown.length;
    this._holdAccept();
  }

  /**
   * Hold the submit button while the chosen backend cannot run or problems
   * are shown, and say why under the form (a disabled button alone does not).
   */
  private _holdAccept(): void {
    const accept = this.node
      .closest('.jp-Dialog')
      ?.querySelector<HTMLButtonElement>('.jp-Dialog-button.jp-mod-accept');
    const count = this._problemCount;
    const reason =
      this._picker.blocker() ??
      (count === 0
        ? null
        : count === 1
          ? 'fix the problem the form shows first'
          : `fix the ${count} problems the form shows first`);
    const label = accept?.textContent?.trim() || 'Submit';
    this._held.textContent = reason ? `${label} is disabled: ${reason}` : '';
    this._held.hidden = reason === null;
    if (accept) {
      accept.disabled = reason !== null;
      accept.title = reason ?? '';
    }
  }

  /**
   * Where a problem of `field` shows: its own field when shown; a run
   * option no field shows goes under Other flags, which holds its words;
   * a parameter's under the parameters.
   */
  private _place(field: string): string | null {
    if (this._problems.shown(field)) {
      return field;
    }
    if (field.startsWith('options.') && this._problems.shown('rest')) {
      return 'rest';
    }
    if (field.startsWith('parameters.') && this._problems.shown('parameters')) {
      return 'parameters';
    }
    return null;
  }

  /**
   * The Arguments field of a container job: one line, sent as typed and
   * split into words by the server as it splits the Command (quotes group,
   * a backslash escapes); its problems come back under `args_text`.
   */
  private _argsRow(text: string): HTMLElement {
    this._args = h('input', {
      class: 'jp-mod-styled',
      attrs: { name: 'args', type: 'text', spellcheck: 'false' },
      on: { input: () => this._update() }
    });
    this._args.value = text;
    return this._row(
      'Arguments',
      this._args,
      "Words given to the program in place of the image's CMD (Vertex AI's containerSpec.args), split as a shell would: " +
        'spaces separate words, \'…\' or "…" keep one together, a backslash escapes; never run by a shell',
      'args_text'
    );
  }

  /** Other flags of a cell form: the line's words no field shows. */
  private _restRow(text: string): HTMLElement {
    this._rest = h('input', {
      class: 'jp-mod-styled',
      attrs: {
        name: 'rest',
        type: 'text',
        placeholder: 'none, e.g. --detach or --out result',
        spellcheck: 'false'
      },
      on: { input: () => this._update() }
    });
    this._rest.value = text;
    return this._row(
      'Other flags',
      this._rest,
      'Words of the %%containerjob line that no field above shows (--name, --in, --out, --detach, --dry-run, ' +
        'options of another backend...): they go back on the line as typed, after the fields',
      'rest'
    );
  }

  /** A labelled row whose problems show under it; handed to the field widgets as it is. */
  private readonly _row: RowFactory = (label, control, help, field) => {
    const row = h('label', { class: 'jp-ContainerJob-form-row', title: help }, [
      h('span', { class: 'jp-ContainerJob-form-label', text: label }),
      control
    ]);
    this._problems.add(field, row);
    return row;
  };

  private _picker: BackendPicker;
  private _backend: HTMLSelectElement;
  private _held: HTMLElement;
  private _problemCount = 0;
  /** The backend the fields show now (before a change event's new one). */
  private _shownBackend: string;
  private _project: HTMLElement;
  private _envs = new Map<
    EnvOption,
    { input: HTMLTextAreaElement; row: HTMLElement }
  >();
  private _args: HTMLInputElement | null = null;
  private _config: CustomJobField | null = null;
  private _file: ICustomJobFile | null = null;
  private _rest: HTMLInputElement | null = null;
  private _inputs = new Map<
    RunOptionName,
    { input: HTMLInputElement; row: HTMLElement }
  >();
  private _parameters: ParameterFields | null = null;
  private _schedule: ScheduleFields | null = null;
  private _problems = new ProblemSlots();
  private _defaults: DefaultValues;
  /** Fields (as problems name them) the user changed. */
  private _touched = new Set<string>();
  /** Every problem shows: the form reopened after Run with what refused it. */
  private _revealed: boolean;
  private _checker = new Debouncer(() => this._runCheck(), CHECK_DELAY_MS);
  private _round = 0;
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
    focusNodeSelector: focusSelector(options)
  });
  return result.button.accept ? result.value : null;
}

/**
 * Where the form puts the cursor: the first field with a problem when it
 * reopens after Run; else the first the user must fill in (the container
 * form's Image, not the optional CustomJob file above it); else the first.
 */
export function focusSelector(options: IFormOptions): string {
  const row = '.jp-ContainerJob-form-row:not([hidden])';
  if (options.problems?.length) {
    return `${row}.jp-mod-invalid :is(input, textarea, select)`;
  }
  if (options.required?.length) {
    return `${row} input[aria-required="true"]`;
  }
  return `${row} input`;
}
