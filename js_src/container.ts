/**
 * Container jobs: an image's own ENTRYPOINT (or `options.command`) with
 * arguments in place of its CMD, Vertex AI's containerSpec.command/args.
 * The request the "Run a container" form sends and what a job view shows
 * of one; pure functions, so the rules are testable alone.
 */
import { IFieldProblem, IJob, IRunOptions, ISubmitJob } from './api';

import { SplitError, joinWords, splitWords } from './shellwords';

/**
 * What the form itself refuses before anything is sent: no image (the
 * field is required unless a CustomJob file names one), Arguments that
 * cannot be split into words. The server checks the rest, the Command's
 * words and the file included.
 */
export function containerProblems(
  options: IRunOptions,
  argsText: string,
  config = ''
): IFieldProblem[] {
  const problems: IFieldProblem[] = [];
  if (!options.image?.trim() && !config.trim()) {
    problems.push({
      field: 'options.image',
      message:
        'Image is required: the container image whose program runs, e.g. python:3.11-slim or REGISTRY/trainer:latest.'
    });
  }
  try {
    splitWords(argsText);
  } catch (reason) {
    if (!(reason instanceof SplitError)) {
      throw reason;
    }
    problems.push({ field: 'args', message: `Arguments: ${reason.message}.` });
  }
  return problems;
}

/**
 * The `POST jobs` body of a container job: the run options as the form
 * gave them (the server splits `command`), the Arguments text split into
 * words (`args` left out when there are none: the image's CMD, the
 * file's args, or nothing after a Command), and the CustomJob file if any.
 *
 * @throws {SplitError} when the Arguments cannot be split.
 */
export function containerJob(
  options: IRunOptions,
  argsText: string,
  config = ''
): ISubmitJob {
  const args = splitWords(argsText);
  return {
    kind: 'container',
    options,
    ...(args.length ? { args } : {}),
    ...(config.trim() ? { config: config.trim() } : {})
  };
}

function words(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((w): w is string => typeof w === 'string')
    : [];
}

/**
 * What a container job ran, for its view: `[label, text]` of its Command
 * and Arguments (`spec.worker_pools[0]`), words quoted so that they can be
 * pasted back into the form; nothing for other kinds of job.
 */
export function containerFacts(job: IJob): [string, string][] {
  const spec = job.spec as {
    kind?: unknown;
    worker_pools?: { command?: unknown; args?: unknown }[];
  };
  if (spec.kind !== 'container') {
    return [];
  }
  const pool = Array.isArray(spec.worker_pools) ? spec.worker_pools[0] : null;
  const command = words(pool?.command);
  const args = words(pool?.args);
  return [
    ['Command', command.length ? joinWords(command) : "the image's ENTRYPOINT"],
    [
      'Arguments',
      args.length
        ? joinWords(args)
        : command.length
          ? 'none'
          : "none: the image's CMD"
    ]
  ];
}
