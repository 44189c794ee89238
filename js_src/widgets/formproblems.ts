/**
 * A form's problems where they belong: each under the field it names, the
 * ones no shown field can take in a list above the fields.
 */
import { IFieldProblem } from '../api';

import { h } from './dom';

/** Makes a labelled form row whose problems show under it (SubmitForm's `_row`). */
export type RowFactory = (
  label: string,
  control: HTMLElement,
  help: string,
  field: string
) => HTMLElement;

export class ProblemSlots {
  /** The list of problems no shown field takes. */
  readonly general: HTMLUListElement;

  constructor() {
    this.general = h('ul', {
      class: 'jp-ContainerJob-form-errors',
      attrs: { role: 'alert' }
    });
    this.general.hidden = true;
  }

  /** Give `field` a place for its problems at the end of `row`. */
  add(field: string, row: HTMLElement): void {
    const node = h('div', {
      class: 'jp-ContainerJob-form-error',
      attrs: { 'data-field': field, role: 'alert' }
    });
    node.hidden = true;
    row.append(node);
    this._slots.set(field, { row, node });
  }

  /** The fields whose rows hold `node` (a parameter's row and the parameters around it). */
  fieldsAt(node: Node): string[] {
    return [...this._slots]
      .filter(([, { row }]) => row.contains(node))
      .map(([field]) => field);
  }

  /** Whether `field` has a place that is shown now. */
  shown(field: string): boolean {
    const slot = this._slots.get(field);
    return !!slot && !slot.row.hidden && !slot.row.closest('[hidden]');
  }

  /**
   * Show `problems` in place of the previous ones; `where` picks the field
   * whose place a problem goes to (`null`: the list above the fields).
   */
  show(
    problems: readonly IFieldProblem[],
    where: (field: string) => string | null
  ): void {
    for (const { row, node } of this._slots.values()) {
      node.replaceChildren();
      node.hidden = true;
      row.classList.remove('jp-mod-invalid');
    }
    this.general.replaceChildren();
    for (const problem of problems) {
      const slot = this._slots.get(where(problem.field) ?? '');
      if (slot) {
        slot.node.append(h('div', { text: problem.message }));
        slot.node.hidden = false;
        slot.row.classList.add('jp-mod-invalid');
      } else {
        this.general.append(
          h('li', {
            text: problem.message,
            attrs: { 'data-field': problem.field }
          })
        );
      }
    }
    this.general.hidden = this.general.childElementCount === 0;
  }

  private _slots = new Map<string, { row: HTMLElement; node: HTMLElement }>();
}
