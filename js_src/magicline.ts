/**
 * A cell's `%%containerjob` line, read and written by the server with the
 * magic's own parser (`POST magic`, magics/magic_line.py): the browser
 * splits no words and knows no flag; it asks which words the fields show
 * and which stay in Other flags, as typed.
 */
import { ContainerJobAPI, IMagicLine, IRunOptions, RunOptionName } from './api';

import { RUN_OPTIONS } from './options.generated';

/** The run options a form shows, by name, for `POST magic`'s `fields`. */
export function fieldNames(
  shows: (name: RunOptionName) => boolean
): RunOptionName[] {
  return RUN_OPTIONS.map(row => row.name).filter(shows);
}

/**
 * The line as the magic reads it: the options of the fields `shows`, the
 * other words as typed (`rest`), and what the magic would refuse; an
 * unreadable line (an unclosed quote) is a problem under `line`.
 */
export function readLine(
  api: ContainerJobAPI,
  line: string,
  shows: (name: RunOptionName) => boolean
): Promise<IMagicLine> {
  return api.magicLine({ line, fields: fieldNames(shows) });
}

/**
 * The line a form writes: its options' flags, then the Other flags text as
 * typed; read back with the fields `shows` (default: all of them).
 */
export function writeLine(
  api: ContainerJobAPI,
  options: IRunOptions,
  rest: string,
  shows?: (name: RunOptionName) => boolean
): Promise<IMagicLine> {
  return api.magicLine({
    options,
    rest,
    ...(shows ? { fields: fieldNames(shows) } : {})
  });
}

/** The problem that makes `line` unreadable, or `null`. */
export function unreadable(read: IMagicLine): string | null {
  return (
    read.problems.find(problem => problem.field === 'line')?.message ?? null
  );
}
