import { RunOptionName } from '../../js_src/api';

import {
  LineError,
  MAGIC_FLAGS,
  formLine,
  lineProblems,
  lineWords,
  magicWords,
  readWords,
  wordOptions
} from '../../js_src/magicline';

import {
  OPTIONS_BY_BACKEND,
  RUN_OPTIONS
} from '../../js_src/options.generated';

import { FIELDS } from '../../js_src/widgets/formfields';

/** What the cell form of `backend` shows: the backend, its fields, the Environment. */
function cellForm(backend: string): (name: RunOptionName) => boolean {
  const takes = new Set(OPTIONS_BY_BACKEND[backend]);
  const controls = new Set<RunOptionName>([
    'backend',
    'env',
    ...FIELDS.filter(f => f.kinds.includes('cell')).map(f => f.name)
  ]);
  return name => takes.has(name) && controls.has(name);
}

const QUICKSTART = '--name quickstart --env GREETING=hello';

describe('magicWords', () => {
  it('splits as IPython does: quotes group a word and stay in it', () => {
    // The words Python's IPython.utils.process.arg_split gives for each line.
    expect(magicWords('"a b"c d')).toEqual(['"a b"', 'c', 'd']);
    expect(magicWords('x"a b" c')).toEqual(['x"a', 'b"', 'c']);
    expect(magicWords("'it''s' z")).toEqual(["'it'", "'s'", 'z']);
    expect(magicWords('a\\ b')).toEqual(['a\\', 'b']);
    expect(magicWords('  --gpus\t1  ')).toEqual(['--gpus', '1']);
    expect(magicWords('')).toEqual([]);
  });

  it('refuses an unclosed quote as the kernel does', () => {
    expect(() => magicWords('--name "my job')).toThrow(LineError);
    expect(() => magicWords('--name "my job')).toThrow(
      /no closing quotation: the " at character 8/
    );
  });
});

describe('the quickstart line', () => {
  const words = magicWords(QUICKSTART);

  it('fills the Environment and keeps --name for Other flags', () => {
    expect(formLine(words, cellForm('local'))).toEqual({
      options: { env: ['GREETING=hello'] },
      rest: ['--name', 'quickstart']
    });
  });

  it('goes back with every option it had', () => {
    const { options, rest } = formLine(words, cellForm('local'));
    const written = lineWords({ ...options, backend: 'local' }, rest);
    expect(written.join(' ')).toBe(
      '--backend local --env GREETING=hello --name quickstart'
    );
    expect(wordOptions(written)).toEqual({
      backend: 'local',
      env: ['GREETING=hello'],
      name: 'quickstart'
    });
  });
});

describe('words the form does not show', () => {
  it('go back unchanged and in order: unknown flags, the magic own, flags', () => {
    const line =
      '--gpus 1 --frobnicate x --in data,model --out result --detach ' +
      '--dry-run --spot --on-interrupt cancel --no-upload-on-failure';
    const { options, rest } = formLine(magicWords(line), cellForm('local'));
    expect(options).toEqual({ gpus: '1' });
    expect(rest).toEqual([
      '--frobnicate',
      'x',
      '--in',
      'data,model',
      '--out',
      'result',
      '--detach',
      '--dry-run',
      '--spot',
      '--on-interrupt',
      'cancel',
      '--no-upload-on-failure'
    ]);
    expect(lineWords(options, rest).join(' ')).toBe(
      '--gpus 1 --frobnicate x --in data,model --out result --detach --dry-run ' +
        '--spot --on-interrupt cancel --no-upload-on-failure'
    );
  });

  it('include the options of fields the backend hides, as typed', () => {
    const words = magicWords(
      '--region europe-west4 --machine-type=n1-standard-8 --gpus 2'
    );
    expect(formLine(words, cellForm('local'))).toEqual({
      options: { gpus: '2' },
      rest: ['--region', 'europe-west4', '--machine-type=n1-standard-8']
    });
    expect(formLine(words, cellForm('vertex'))).toEqual({
      options: { region: 'europe-west4', machine_type: 'n1-standard-8' },
      rest: ['--gpus', '2']
    });
  });

  it('keep quoted words whole, quotes included (the kernel keeps them)', () => {
    const { options, rest } = formLine(
      magicWords(`--name "my job" --image 'python:3.11'`),
      cellForm('local')
    );
    expect(options).toEqual({ image: "'python:3.11'" });
    expect(rest).toEqual(['--name', '"my job"']);
  });
});

describe('readWords', () => {
  it('reads flags as argparse does: prefixes, --flag=value, last text wins', () => {
    const words = magicWords(
      '--back local --gpu 2 --gpus=3 --env=A=1 --env B=2 --outp out --out x'
    );
    expect(wordOptions(words)).toEqual({
      backend: 'local',
      gpus: '3',
      env: ['A=1', 'B=2'],
      output_dir: 'out'
    });
    expect(readWords(words).at(-1)).toEqual({
      option: null,
      words: ['--out', 'x'],
      value: 'x'
    });
  });

  it('leaves what argparse refuses to the kernel, whole', () => {
    // --ima: --image or --image-repo; a flag with a value; a missing value.
    const words = magicWords('--ima x --spot=yes --gpus --detach stray');
    expect(
      readWords(words).map(g => [g.option?.name ?? null, g.words])
    ).toEqual([
      [null, ['--ima']],
      [null, ['x']],
      [null, ['--spot=yes']],
      [null, ['--gpus']],
      [null, ['--detach']],
      [null, ['stray']]
    ]);
    expect(wordOptions(magicWords('--spot --timeout -5'))).toEqual({
      spot: true,
      timeout: '-5'
    });
  });

  it('knows the options the magic declares: those of cells', () => {
    const command = RUN_OPTIONS.find(row => row.name === 'command')!;
    expect(command.kinds).not.toContain('cell');
    expect(wordOptions(['--command', 'x'])).toEqual({});
    expect(Object.keys(MAGIC_FLAGS)).toEqual([
      '--in',
      '--out',
      '--on-interrupt',
      '--detach',
      '--dry-run'
    ]);
  });
});

describe('lineWords', () => {
  it('writes the backend first, repeatable options last, no --gpus 0', () => {
    expect(
      lineWords({
        env: ['SEED=1', 'MODE=fast'],
        timeout: '10m',
        gpus: '0',
        image: 'python:3.11-slim',
        backend: 'local',
        project: ' '
      }).join(' ')
    ).toBe(
      '--backend local --image python:3.11-slim --timeout 10m --env SEED=1 --env MODE=fast'
    );
  });

  it('writes every form field with the flag the table declares', () => {
    const options: Record<string, string> = {};
    for (const field of FIELDS) {
      options[field.name] = 'x';
    }
    const words = lineWords(options);
    for (const field of FIELDS) {
      expect(words).toContain(field.flag);
    }
  });
});

describe('lineProblems', () => {
  it('names each value the line cannot carry, under its field', () => {
    expect(
      lineProblems({
        image: 'my image',
        project: "it's",
        env: ['A=b c', 'B=1']
      })
    ).toEqual([
      {
        field: 'options.image',
        message:
          '--image "my image" contains whitespace, which the %%containerjob line cannot carry; remove it'
      },
      {
        field: 'options.project',
        message:
          "--project it's contains a quote, which the %%containerjob line would keep as part of the value; remove it"
      },
      {
        field: 'options.env',
        message:
          '--env "A=b c" contains whitespace, which the %%containerjob line cannot carry; remove it'
      }
    ]);
    expect(lineProblems({ image: 'python:3.11-slim', env: ['A=b=c'] })).toEqual(
      []
    );
  });
});
