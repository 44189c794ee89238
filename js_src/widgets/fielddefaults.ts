/**
 * Defaults shown as values: an empty field whose job would get a server
 * setting's value (Python's settings, `GET settings`) shows that value with
 * a "default" mark, where a greyed placeholder left the user guessing
 * whether it was a default or an example. The form sends nothing for such
 * a field (the server applies the same default, and a cell's line does not
 * pin it) until the user edits it.
 */
import { IServerSettings, RunOptionName } from '../api';

import { h } from './dom';

import { FieldSpec, serverDefault } from './formfields';

interface IDefaulted {
  input: HTMLInputElement;
  mark: HTMLElement;
  value: string;
  /** Still the default the form filled in (not typed by the user). */
  filled: boolean;
}

export class DefaultValues {
  constructor(private readonly _server: IServerSettings | null) {}

  /**
   * The control a form row shows for `field`: `input` alone when the field
   * has no default (or must be filled in), else with its mark beside it.
   */
  control(
    field: FieldSpec,
    input: HTMLInputElement,
    required: boolean
  ): HTMLElement {
    const value = required ? '' : serverDefault(field, this._server);
    if (!value) {
      return input;
    }
    const mark = h('span', {
      class: 'jp-ContainerJob-form-default',
      text: 'default',
      attrs: {
        title: `What the job gets when the field is left as it is (the server's ${field.form.setting} setting)`
      }
    });
    this._fields.set(field.name, { input, mark, value, filled: false });
    input.addEventListener('input', () => this._edited(field.name));
    return h('span', { class: 'jp-ContainerJob-form-value' }, [input, mark]);
  }

  /** Put `value` in field `name`'s input; an empty one shows the default, marked. */
  fill(name: RunOptionName, input: HTMLInputElement, value: string): void {
    const entry = this._fields.get(name);
    input.value = value || entry?.value || '';
    if (entry) {
      entry.filled = !value;
      this._showMark(entry);
    }
  }

  /** What the user set in `input` (trimmed): '' while it holds the default. */
  typed(name: RunOptionName, input: HTMLInputElement): string {
    return this._fields.get(name)?.filled ? '' : input.value.trim();
  }

  private _edited(name: RunOptionName): void {
    const entry = this._fields.get(name)!;
    entry.filled = false;
    this._showMark(entry);
  }

  /** Marked while the job gets the default: filled in, or left empty. */
  private _showMark(entry: IDefaulted): void {
    entry.mark.hidden = !(entry.filled || !entry.input.value.trim());
  }

  private _fields = new Map<RunOptionName, IDefaulted>();
}
