/**
 * The notebook parameters of a launch form: one field per parameter the
 * notebook declares (its cell tagged "parameters"), prefilled with the text
 * of the last attempt or the declared default.
 */
import { INotebookParameter } from '../api';

import { h } from './dom';

import { ProblemSlots, RowFactory } from './formproblems';

/**
 * The text a parameter's input starts with: its default as the notebook
 * declares it (Python source, e.g. `10` or `'adam'`).
 */
export function defaultText(parameter: INotebookParameter): string {
  const value = parameter.default;
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export class ParameterFields {
  /** The fieldset holding every parameter's row; problems of `parameters` show under its legend. */
  readonly section: HTMLFieldSetElement;

  constructor(
    declared: INotebookParameter[],
    texts: Record<string, string>,
    row: RowFactory,
    changed: () => void,
    problems: ProblemSlots
  ) {
    this.section = h('fieldset', { class: 'jp-ContainerJob-form-parameters' }, [
      h('legend', {
        text: declared.length
          ? 'Parameters'
          : 'Parameters: none (no cell tagged "parameters")'
      })
    ]);
    problems.add('parameters', this.section);
    for (const parameter of declared) {
      const input = h('input', {
        class: 'jp-mod-styled',
        attrs: {
          name: `parameter:${parameter.name}`,
          type: 'text',
          spellcheck: 'false'
        },
        on: { input: changed }
      });
      input.value = texts[parameter.name] ?? defaultText(parameter);
      this._inputs.set(parameter.name, input);
      const label = parameter.type
        ? `${parameter.name} (${parameter.type})`
        : parameter.name;
      this.section.append(
        row(
          label,
          input,
          parameter.help || `default ${defaultText(parameter)}`,
          `parameters.${parameter.name}`
        )
      );
    }
  }

  /** Each parameter's text as typed, by name. */
  get values(): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [name, input] of this._inputs) {
      values[name] = input.value;
    }
    return values;
  }

  private _inputs = new Map<string, HTMLInputElement>();
}
