/**
 * The REST submissions this UI made (their bodies, by job id), kept in the
 * state database across reloads so that their jobs can be re-run as sent;
 * one with `--secret-env` values is kept in memory only (the state database
 * is written to disk), so its job can be re-run until the page reloads.
 */
import { IStateDB } from '@jupyterlab/statedb';

import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ISubmitJob, ISubmittedJob } from './api';

import { jobTitle } from './widgets/format';

/** A notification to show for a submission, as JupyterLab's Notification API takes it. */
export interface ISubmissionNotice {
  message: string;
  type: 'warning' | 'info';
}

/**
 * What the backend said before it sent the job (an unlisted machine type,
 * region or accelerator; a bucket in another region): one notice each, a
 * `warning: ...` as a warning and a `note: ...` as information.
 */
export function submissionNotices(job: ISubmittedJob): ISubmissionNotice[] {
  return (job.warnings ?? []).map(line => {
    const note = line.startsWith('note: ');
    const text = line.replace(/^(warning|note): /, '');
    return {
      message: `Job ${jobTitle(job)} (${job.backend}): ${text}`,
      type: note ? 'info' : 'warning'
    };
  });
}

/** The REST submissions this UI made, kept so that their jobs can be re-run. */
export class Submissions {
  constructor(private readonly _state: IStateDB | null) {}

  async restore(): Promise<void> {
    const saved = await this._state?.fetch(Submissions.KEY);
    if (saved && typeof saved === 'object') {
      for (const [id, body] of Object.entries(saved)) {
        this._bodies.set(id, body as unknown as ISubmitJob);
      }
    }
  }

  get(id: string): ISubmitJob | undefined {
    return this._bodies.get(id);
  }

  remember(id: string, body: ISubmitJob): void {
    this._bodies.set(id, body);
    while (this._bodies.size > Submissions.LIMIT) {
      this._bodies.delete(this._bodies.keys().next().value as string);
    }
    const saved: Record<string, unknown> = Object.fromEntries(
      [...this._bodies].filter(([, kept]) => !kept.options?.secret_env?.length)
    );
    void this._state?.save(Submissions.KEY, saved as ReadonlyPartialJSONObject);
  }

  private static readonly KEY = 'containerjob:submissions';
  private static readonly LIMIT = 200;
  private _bodies = new Map<string, ISubmitJob>();
}
