/**
 * The Backend field of a launch form: every backend the action can use,
 * an unavailable one disabled with the server's reason in its option and in
 * a note under the field, and why the chosen one cannot take the job now
 * (the form holds Submit while it says so). Availability can be renewed
 * while the form is open: a backend that stops (or starts) is shown so.
 */
import { BackendName } from '../api';

import { IBackendChoice, blockedBy, initialChoice } from '../backends';

import { h, setChildren } from './dom';

export class BackendPicker {
  constructor(
    choices: readonly IBackendChoice[],
    wanted: BackendName | undefined,
    onChange: () => void
  ) {
    this._choices = [...choices];
    this.select = h('select', {
      class: 'jp-mod-styled',
      attrs: { name: 'backend' },
      on: { change: onChange }
    });
    this.select.disabled = choices.length === 1;
    this.notes = h('ul', { class: 'jp-ContainerJob-form-warning' });
    const start = initialChoice(choices, wanted);
    this._render();
    this.select.value = start?.name ?? '';
  }

  /** The `<select name="backend">`. */
  readonly select: HTMLSelectElement;
  /** Why each unavailable backend cannot be picked. */
  readonly notes: HTMLElement;

  get value(): BackendName {
    return this.select.value;
  }

  choice(name: BackendName): IBackendChoice | undefined {
    return this._choices.find(choice => choice.name === name);
  }

  get choices(): readonly IBackendChoice[] {
    return this._choices;
  }

  /** Why the chosen backend cannot take the job now, or `null`. */
  blocker(): string | null {
    return blockedBy(this._choices, this.value);
  }

  /** Show availability as the server says it now; the choice stays. */
  update(choices: readonly IBackendChoice[]): void {
    const same = choices.every(
      (choice, i) => this._choices[i]?.unavailable === choice.unavailable
    );
    if (same && choices.length === this._choices.length) {
      return;
    }
    const value = this.value;
    this._choices = [...choices];
    this._render();
    this.select.value = value;
  }

  private _render(): void {
    setChildren(
      this.select,
      this._choices.map(choice => {
        const option = h('option', {
          text:
            choice.unavailable === null
              ? choice.label
              : `${choice.label} — unavailable: ${choice.unavailable}`,
          title: choice.unavailable ?? '',
          attrs: { value: choice.name }
        });
        option.disabled = choice.unavailable !== null;
        return option;
      })
    );
    const notes = this._choices
      .filter(choice => choice.unavailable !== null)
      .map(choice =>
        h('li', { attrs: { 'data-backend': choice.name } }, [
          h('strong', { text: choice.label }),
          ` is unavailable: ${choice.unavailable}`
        ])
      );
    setChildren(this.notes, notes);
    this.notes.hidden = notes.length === 0;
  }

  private _choices: IBackendChoice[];
}
