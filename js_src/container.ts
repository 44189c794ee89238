/**
 * Container jobs: an image's own ENTRYPOINT (or `options.command`) with
 * arguments in place of its CMD, Vertex AI's containerSpec.command/args.
 * The request the "Run a container" form sends and what a job view shows
 * of one; pure functions, so the rules are testable alone. Words are the
 * server's business: it splits the Arguments as it splits the Command, and
 * sends a job's command and arguments back as lines (`command_text`,
 * `args_text`).
 */
import { IFieldProblem, IJob, IRunOptions, ISubmitJob } from './api';

/**
 * What the form itself refuses before anything is sent: no image (the
 * field is required unless a CustomJob file names one). The server checks
 * the rest, the Command's and the Arguments' words and the file included.
 */
export function containerProblems(
  options: IRunOptions,
  config = ''
): IFieldProblem[] {
  if (options.image?.trim() || config.trim()) {
    return [];
  }
  return [
    {
      field: 'options.image',
      message:
        'Image is required: the container image whose program runs, e.g. python:3.11-slim or REGISTRY/trainer:latest.'
    }
  ];
}

/**
 * The `POST jobs` body of a container job: the run options as the form
 * gave them, the Arguments as typed (`args_text`: the server splits both
 * it and `command` into words; left out when blank: the image's CMD, the
 * file's args, or nothing after a Command), and the CustomJob file if any.
 */
export function containerJob(
  options: IRunOptions,
  argsText: string,
  config = ''
): ISubmitJob {
  return {
    kind: 'container',
    options,
    ...(argsText.trim() ? { args_text: argsText } : {}),
    ...(config.trim() ? { config: config.trim() } : {})
  };
}

/**
 * What a container job ran, for its view: `[label, text]` of its Command
 * and Arguments as the server joined them (they paste back into the form);
 * nothing for other kinds of job.
 */
export function containerFacts(job: IJob): [string, string][] {
  if ((job.spec as { kind?: unknown }).kind !== 'container') {
    return [];
  }
  return [
    ['Command', job.command_text ?? "the image's ENTRYPOINT"],
    [
      'Arguments',
      job.args_text ??
        (job.command_text !== null ? 'none' : "none: the image's CMD")
    ]
  ];
}
