/**
 * The "CustomJob file" field of the Run a container form, and under it what
 * the file sets as the server reads it (`GET customjob`), read again each
 * time the path stops changing: the user sees what will run before
 * overriding any of it. A file the server refuses shows nothing here; the
 * form's check names the problem next to the field.
 */
import { Debouncer } from '@lumino/polling';

import { ICustomJobFile } from '../api';

import { fileFacts } from '../customjobfile';

import { disposeTimer } from '../polling';

import { h } from './dom';

import { RowFactory } from './formproblems';

/** Where the field reads a file (the server). */
export type CustomJobSource = (path: string) => Promise<ICustomJobFile>;

/** How long typing pauses before the file is read. */
const READ_DELAY_MS = 350;

export class CustomJobField {
  /**
   * @param changed - called on every keystroke (the form checks its values).
   * @param loaded - called with what the file sets once read, `null` when
   *   there is no file or the server refused it.
   */
  constructor(
    text: string,
    row: RowFactory,
    changed: () => void,
    private readonly _read: CustomJobSource,
    private readonly _loaded: (file: ICustomJobFile | null) => void
  ) {
    this.input = h('input', {
      class: 'jp-mod-styled',
      attrs: {
        name: 'config',
        type: 'text',
        placeholder: 'none, e.g. jobs/train.yaml',
        spellcheck: 'false'
      },
      on: {
        input: () => {
          changed();
          if (!this._reader.isDisposed) {
            void this._reader.invoke(++this._round);
          }
        }
      }
    });
    this.input.value = text;
    this._facts = h('div', {
      class: 'jp-ContainerJob-form-filefacts',
      attrs: { 'aria-live': 'polite' }
    });
    this.rows = [
      row(
        'CustomJob file',
        this.input,
        'A CustomJob file (YAML or JSON, as `gcloud ai custom-jobs create --config` takes), relative to the ' +
          "Jupyter server's root: it sets the job's worker pools; the fields below override it",
        'config'
      ),
      this._facts
    ];
    const first = ++this._round;
    void Promise.resolve().then(() => this._readFile(first));
  }

  readonly input: HTMLInputElement;
  readonly rows: HTMLElement[];

  get value(): string {
    return this.input.value.trim();
  }

  dispose(): void {
    disposeTimer(this._reader);
    this._round++;
  }

  /** Read the file; only the latest round's answer shows. */
  private _readFile(round: number): void {
    if (round !== this._round) {
      return;
    }
    const path = this.value;
    if (!path) {
      this._show(null);
      return;
    }
    this._read(path).then(
      file => round === this._round && this._show(file),
      () => round === this._round && this._show(null)
    );
  }

  private _show(file: ICustomJobFile | null): void {
    this._facts.replaceChildren();
    this._facts.hidden = file === null;
    if (file) {
      this._facts.append(
        h('p', {
          text: 'The file sets (a field filled in below overrides it):'
        }),
        h(
          'dl',
          {},
          fileFacts(file).flatMap(([label, text]) => [
            h('dt', { text: label }),
            h('dd', { text })
          ])
        )
      );
    }
    this._loaded(file);
  }

  private _facts: HTMLElement;
  private _reader = new Debouncer(
    (round: number) => this._readFile(round),
    READ_DELAY_MS
  );
  private _round = 0;
}
