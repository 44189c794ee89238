/**
 * The `%%containerjob` line as the kernel reads it, and back. IPython
 * splits the line as a non-POSIX shlex does (quotes group words and stay
 * in them, no backslash escapes) and argparse maps the words to the
 * magic's options (`--flag=value` and a flag's unique prefix count too).
 * A form shows some of the options; every other word goes back as typed.
 *
 * Pure functions over strings, so the rules are testable alone.
 */
import { IFieldProblem, IRunOptions, RunOptionName } from './api';

import { IRunOptionSpec, RUN_OPTIONS } from './options.generated';

/** Why a line cannot be read: IPython refuses it the same way. */
export class LineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LineError';
  }
}

/**
 * The magic's own flags (magics/cell.py), which are no run options, and
 * whether each takes a value; tests/python/test_option_table.py checks
 * them against the magic's parser.
 */
export const MAGIC_FLAGS: Readonly<Record<string, boolean>> = {
  '--in': true,
  '--out': true,
  '--on-interrupt': true,
  '--detach': false,
  '--dry-run': false
};

/** The run options the magic declares: those of cells, by flag. */
const CELL_OPTIONS = new Map(
  RUN_OPTIONS.filter(row => row.kinds.includes('cell')).map(row => [
    row.flag,
    row
  ])
);

const ALL_FLAGS = [...CELL_OPTIONS.keys(), ...Object.keys(MAGIC_FLAGS)];

const WHITESPACE = /\s/;

/**
 * The words of a magic line as IPython's `arg_split` makes them: split at
 * whitespace; a word that starts with a quote ends at the matching quote,
 * which it keeps; quotes inside a word are plain characters.
 *
 * @throws {LineError} on an unclosed quote.
 */
export function magicWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (WHITESPACE.test(line[i])) {
      i++;
      continue;
    }
    const start = i;
    const quote = line[i];
    if (quote === '"' || quote === "'") {
      const end = line.indexOf(quote, i + 1);
      if (end < 0) {
        throw new LineError(
          `no closing quotation: the ${quote} at character ${i + 1} of the %%containerjob line is not closed; close it`
        );
      }
      i = end + 1;
    } else {
      while (i < line.length && !WHITESPACE.test(line[i])) {
        i++;
      }
    }
    words.push(line.slice(start, i));
  }
  return words;
}

/** Words of the line that belong together: a flag and its value. */
export interface IWordGroup {
  /** The run option they set; `null` for the magic's own and unknown words. */
  option: IRunOptionSpec | null;
  /** The words as typed. */
  words: string[];
  /** What the kernel reads: the value, or `true` for a flag. */
  value: string | boolean;
}

/** The flag argparse reads `text` as: exact, else a unique prefix. */
function resolveFlag(text: string): string | null {
  if (ALL_FLAGS.includes(text)) {
    return text;
  }
  const matches = ALL_FLAGS.filter(flag => flag.startsWith(text));
  return text.length > 2 && matches.length === 1 ? matches[0] : null;
}

/** Whether argparse takes `word` as a flag's value (not as another flag). */
function isValue(word: string | undefined): word is string {
  return word !== undefined && (!word.startsWith('-') || /^-\d/.test(word));
}

/**
 * The line's words grouped as argparse reads them. Words it would refuse
 * (unknown flags, a missing value) form groups of their own with no
 * option, so they go back unchanged and the kernel names the problem.
 */
export function readWords(words: readonly string[]): IWordGroup[] {
  const groups: IWordGroup[] = [];
  const other = (word: string): IWordGroup => ({
    option: null,
    words: [word],
    value: word
  });
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const eq = word.indexOf('=');
    const flag = word.startsWith('--')
      ? resolveFlag(eq < 0 ? word : word.slice(0, eq))
      : null;
    if (flag === null) {
      groups.push(other(word));
      continue;
    }
    const option = CELL_OPTIONS.get(flag) ?? null;
    const takesValue = option ? option.kind !== 'flag' : MAGIC_FLAGS[flag];
    if (!takesValue) {
      groups.push(
        eq < 0 ? { option, words: [word], value: true } : other(word)
      );
    } else if (eq >= 0) {
      groups.push({ option, words: [word], value: word.slice(eq + 1) });
    } else if (isValue(words[i + 1])) {
      groups.push({ option, words: [word, words[i + 1]], value: words[++i] });
    } else {
      groups.push(other(word));
    }
  }
  return groups;
}

/** Set `option` in `options` as argparse does: the last text wins, lists grow. */
function assign(
  options: IRunOptions,
  option: IRunOptionSpec,
  value: string | boolean
): void {
  const record = options as Record<string, unknown>;
  if (option.kind === 'list') {
    record[option.name] = [...((record[option.name] as string[]) ?? []), value];
  } else {
    record[option.name] = option.kind === 'flag' ? !option.negated : value;
  }
}

/** The run options the kernel reads from the words. */
export function wordOptions(words: readonly string[]): IRunOptions {
  const options: IRunOptions = {};
  for (const group of readWords(words)) {
    if (group.option) {
      assign(options, group.option, group.value);
    }
  }
  return options;
}

/** What a form shows of a line, and the words it does not show. */
export interface IFormLine {
  /** The options of the fields it shows. */
  options: IRunOptions;
  /** Every other word, as typed and in order: they go back unchanged. */
  rest: string[];
}

/** Split the words into the options of the fields a form `shows` and the rest. */
export function formLine(
  words: readonly string[],
  shows: (name: RunOptionName) => boolean
): IFormLine {
  const options: IRunOptions = {};
  const rest: string[] = [];
  for (const group of readWords(words)) {
    if (
      group.option &&
      group.option.kind !== 'flag' &&
      shows(group.option.name)
    ) {
      assign(options, group.option, group.value);
    } else {
      rest.push(...group.words);
    }
  }
  return { options, rest };
}

/**
 * The table in the order a form writes flags: `--backend` first (where it
 * runs), repeatable ones last, the rest in the table's order.
 */
const ORDER: readonly IRunOptionSpec[] = [...RUN_OPTIONS].sort(
  (a, b) => rank(a) - rank(b)
);

function rank(row: IRunOptionSpec): number {
  return row.name === 'backend' ? 0 : row.kind === 'list' ? 2 : 1;
}

/** The values of one option, in flag order: a list's items, a set text. */
function values(options: IRunOptions, name: RunOptionName): string[] {
  const value = options[name];
  if (Array.isArray(value)) {
    return value;
  }
  return typeof value === 'string' && value.trim() ? [value.trim()] : [];
}

/**
 * The words of a form's fields (`--flag value` for each set text and each
 * item of a list, no `--gpus 0`), then `rest` unchanged.
 */
export function lineWords(
  options: IRunOptions,
  rest: readonly string[] = []
): string[] {
  const words: string[] = [];
  for (const { name, flag } of ORDER) {
    for (const value of values(options, name)) {
      if (!(name === 'gpus' && value === '0')) {
        words.push(flag, value);
      }
    }
  }
  return [...words, ...rest];
}

/**
 * Why a value cannot go on the magic line, or `null` when it can: it
 * must stay one word, and quotes would stay part of it.
 */
export function wordProblem(flag: string, value: string): string | null {
  if (WHITESPACE.test(value)) {
    return `${flag} "${value}" contains whitespace, which the %%containerjob line cannot carry; remove it`;
  }
  if (/["']/.test(value)) {
    return `${flag} ${value} contains a quote, which the %%containerjob line would keep as part of the value; remove it`;
  }
  return null;
}

/** The values of a form's fields that the magic line cannot carry. */
export function lineProblems(options: IRunOptions): IFieldProblem[] {
  const problems: IFieldProblem[] = [];
  for (const { name, flag } of ORDER) {
    for (const value of values(options, name)) {
      const message = wordProblem(flag, value);
      if (message) {
        problems.push({ field: `options.${name}`, message });
      }
    }
  }
  return problems;
}
