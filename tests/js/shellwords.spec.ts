import {
  SplitError,
  joinWords,
  quoteWord,
  splitWords
} from '../../js_src/shellwords';

describe('splitWords', () => {
  it('has no words in blank text', () => {
    expect(splitWords('')).toEqual([]);
    expect(splitWords('  \t\n ')).toEqual([]);
  });

  it('splits on any run of whitespace', () => {
    expect(splitWords('  --epochs 3\t--lr\n0.1  ')).toEqual([
      '--epochs',
      '3',
      '--lr',
      '0.1'
    ]);
  });

  it('keeps quoted text together, quotes removed', () => {
    expect(splitWords(`python3 -c "print('hello from a container')"`)).toEqual([
      'python3',
      '-c',
      "print('hello from a container')"
    ]);
    expect(splitWords(`--name 'my run' --note "a b"`)).toEqual([
      '--name',
      'my run',
      '--note',
      'a b'
    ]);
    expect(splitWords(`a"b c"'d e'f`)).toEqual(['ab cd ef']);
  });

  it('keeps an empty quoted word', () => {
    expect(splitWords(`--tag '' --x ""`)).toEqual(['--tag', '', '--x', '']);
    expect(splitWords(`''`)).toEqual(['']);
  });

  it('takes a backslash outside quotes as escaping the next character', () => {
    expect(splitWords('a\\ b c')).toEqual(['a b', 'c']);
    expect(splitWords(`it\\'s \\"x\\" \\\\`)).toEqual(["it's", '"x"', '\\']);
  });

  it('escapes only " and \\ inside double quotes, nothing inside single quotes', () => {
    expect(splitWords(`"say \\"hi\\" \\\\ \\n \\$HOME"`)).toEqual([
      'say "hi" \\ \\n \\$HOME'
    ]);
    expect(splitWords(`'a\\b \\' x`)).toEqual(['a\\b \\', 'x']);
  });

  it('expands nothing: variables, globs and comments stay as typed', () => {
    expect(splitWords('$HOME *.txt ~ #no-comment ;')).toEqual([
      '$HOME',
      '*.txt',
      '~',
      '#no-comment',
      ';'
    ]);
  });

  it('refuses an unclosed quote or a trailing backslash, saying where', () => {
    expect(() => splitWords(`--name 'my run`)).toThrow(SplitError);
    expect(() => splitWords(`--name 'my run`)).toThrow(
      "the ' at character 8 is not closed"
    );
    expect(() => splitWords('x "a \\"')).toThrow(
      'the " at character 3 is not closed'
    );
    expect(() => splitWords('x \\')).toThrow('ends with a backslash');
  });
});

describe('joinWords', () => {
  it('quotes only words that need it', () => {
    expect(quoteWord('--epochs=3')).toBe('--epochs=3');
    expect(quoteWord('gs://b/p')).toBe('gs://b/p');
    expect(quoteWord('')).toBe("''");
    expect(quoteWord('a b')).toBe("'a b'");
    expect(quoteWord("print('hi')")).toBe(`"print('hi')"`);
    expect(quoteWord(`it's "x" \\`)).toBe(`"it's \\"x\\" \\\\"`);
  });

  it('reads back into the same words', () => {
    const words = [
      'python3',
      '-c',
      "print('hello from a container')",
      '',
      'a\\b',
      `"'`,
      '$HOME',
      'tab\there',
      'line\nbreak'
    ];

    expect(splitWords(joinWords(words))).toEqual(words);
    expect(joinWords([])).toBe('');
  });
});
