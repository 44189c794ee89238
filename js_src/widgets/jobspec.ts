/**
 * A job page's account of what ran: a cell job's code, the run options in
 * the words a user types (`--image python:3.11-slim --gpus 1`, built by the
 * server from the stored spec: `options_text`), and the spec itself as JSON
 * behind a toggle (the fields the job's backend uses; secrets redacted by
 * the server). The JSON mirrors Vertex AI's CustomJobSpec, with internal
 * fields (the payload's hash, the default display name) that say nothing
 * to a user, so it is not what the page shows first.
 */
import { IJob, RunOptionName } from '../api';

import { specForBackend } from '../specview';

import { h } from './dom';

export class JobSpecView {
  constructor() {
    this._code = h('pre', {
      class: 'jp-ContainerJob-code',
      attrs: { 'aria-label': 'Code' }
    });
    this._codeSection = h('section', { class: 'jp-ContainerJob-section' }, [
      h('h3', { class: 'jp-ContainerJob-sectionTitle', text: 'Code' }),
      this._code
    ]);
    this._codeSection.hidden = true;
    this._options = h('code', {
      class: 'jp-ContainerJob-options',
      attrs: { 'aria-label': 'Options' }
    });
    this._json = h('pre', { class: 'jp-ContainerJob-spec' });
    this.node = h('div', { class: 'jp-ContainerJob-specView' }, [
      this._codeSection,
      h('section', { class: 'jp-ContainerJob-section' }, [
        h('h3', { class: 'jp-ContainerJob-sectionTitle', text: 'Options' }),
        this._options,
        h('details', { class: 'jp-ContainerJob-specJson' }, [
          h('summary', { text: 'Spec as JSON (as the backend takes it)' }),
          this._json
        ])
      ])
    ]);
  }

  readonly node: HTMLElement;

  /**
   * Show `job`'s options and spec (`options`: the run options its backend
   * takes, or `null` for the whole spec) and `code`, a cell job's code
   * (`GET jobs/{id}` alone sends it; `null`: none).
   */
  render(
    job: IJob,
    options: ReadonlySet<RunOptionName> | null,
    code: string | null
  ): void {
    this._options.textContent =
      job.options_text || 'No options: the defaults of its backend.';
    this._json.textContent = JSON.stringify(
      options ? specForBackend(job.spec, options) : job.spec,
      null,
      2
    );
    this._code.textContent = code ?? '';
    this._codeSection.hidden = !code;
  }

  private _code: HTMLElement;
  private _codeSection: HTMLElement;
  private _options: HTMLElement;
  private _json: HTMLElement;
}
