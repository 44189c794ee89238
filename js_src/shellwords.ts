/**
 * Words from a line as a POSIX shell splits them, and back: the rules of
 * Python's `shlex.split`, which the server uses for `options.command`, so
 * the Arguments field of a container job splits the same way. Nothing here
 * runs a shell or expands anything (`$HOME`, `*`, `~` stay as typed).
 */

/** Why a line cannot be split: an unclosed quote or a trailing backslash. */
export class SplitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitError';
  }
}

const WHITESPACE = ' \t\r\n';

/**
 * Split `text` into words: whitespace separates them; `'…'` keeps
 * everything inside as it is; `"…"` too, except that `\"` and `\\` stand
 * for `"` and `\`; outside quotes a backslash keeps the next character as
 * it is (`a\ b` is one word). `''` or `""` is an empty word. Blank text
 * has no words.
 *
 * @throws {SplitError} on an unclosed quote or a backslash at the end.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let started = false; // a word is under way, maybe an empty quoted one
  let i = 0;
  const unclosed = (quote: string, at: number): SplitError =>
    new SplitError(
      `no closing quotation: the ${quote} at character ${at + 1} is not closed; close it, or escape it with a backslash`
    );
  while (i < text.length) {
    const c = text[i++];
    if (WHITESPACE.includes(c)) {
      if (started) {
        words.push(word);
        word = '';
        started = false;
      }
      continue;
    }
    started = true;
    if (c === '\\') {
      if (i >= text.length) {
        throw new SplitError(
          'no escaped character: the text ends with a backslash'
        );
      }
      word += text[i++];
    } else if (c === "'") {
      const end = text.indexOf("'", i);
      if (end < 0) {
        throw unclosed("'", i - 1);
      }
      word += text.slice(i, end);
      i = end + 1;
    } else if (c === '"') {
      const opened = i - 1;
      for (;;) {
        if (i >= text.length) {
          throw unclosed('"', opened);
        }
        const d = text[i++];
        if (d === '"') {
          break;
        }
        if (d === '\\' && i < text.length) {
          const e = text[i++];
          word += e === '"' || e === '\\' ? e : `\\${e}`;
        } else {
          word += d;
        }
      }
    } else {
      word += c;
    }
  }
  if (started) {
    words.push(word);
  }
  return words;
}

/** Characters a word may have and still be shown without quotes (shlex's). */
const SAFE = /^[\w@%+=:,./-]+$/;

/** One word as {@link splitWords} reads it back: bare, `'…'` or `"…"`. */
export function quoteWord(word: string): string {
  if (SAFE.test(word)) {
    return word;
  }
  if (!word.includes("'")) {
    return `'${word}'`;
  }
  return `"${word.replace(/["\\]/g, m => `\\${m}`)}"`;
}

/** Words as one line that {@link splitWords} splits back into them. */
export function joinWords(words: readonly string[]): string {
  return words.map(quoteWord).join(' ');
}
