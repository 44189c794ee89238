/**
 * The sidebar's one list: the jobs the current notebook's cells launched
 * (newest first), then the other recent jobs, no job twice, and the
 * backend filter applied to both parts. Pure, so the rule is testable.
 */
import { IJob } from '../api';

/** What the split reads of the job list model. */
export interface IJobSource {
  readonly jobs: IJob[];
  get(id: string): IJob | undefined;
}

/** A job of the notebook: its record, or none yet (loading, or deleted). */
export interface INotebookJob {
  id: string;
  job: IJob | undefined;
}

export function splitByNotebook(
  notebookIds: string[],
  source: IJobSource,
  backend?: string
): { fromNotebook: INotebookJob[]; others: IJob[] } {
  const mine = new Set(notebookIds);
  const fromNotebook = [...mine]
    .map(id => ({ id, job: source.get(id) }))
    .filter(({ job }) => (job ? !backend || job.backend === backend : !backend))
    // Newest first; a job whose record has not come yet was just launched.
    .sort(
      (a, b) =>
        (b.job?.created_at ?? Infinity) - (a.job?.created_at ?? Infinity)
    );
  const others = source.jobs.filter(job => !mine.has(job.id));
  return { fromNotebook, others };
}
