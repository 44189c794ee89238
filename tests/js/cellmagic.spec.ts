import { RunOptionName } from '../../js_src/api';

import {
  CellOptions,
  JOB_MIME,
  announcements,
  magicFlags,
  optionProblems,
  readMetadata,
  withJob,
  withMagicLine
} from '../../js_src/cellmagic';

import {
  OPTIONS_BY_BACKEND,
  RUN_OPTIONS
} from '../../js_src/options.generated';

import { FIELDS } from '../../js_src/widgets/formfields';

describe('magicFlags', () => {
  const local = new Set(OPTIONS_BY_BACKEND.local);
  const vertex = new Set(OPTIONS_BY_BACKEND.vertex);

  it('writes options as the table flags: backend first, repeatable ones last', () => {
    expect(
      magicFlags(
        {
          backend: 'local',
          image: 'python:3.11-slim',
          gpus: '1',
          timeout: '10m',
          env: ['SEED=1', 'MODE=fast']
        },
        local
      )
    ).toBe(
      '--backend local --image python:3.11-slim --gpus 1 --timeout 10m --env SEED=1 --env MODE=fast'
    );
  });

  it('writes the flags of every form field with the flag the table declares', () => {
    const options: CellOptions = { env: ['A=1'] };
    for (const field of FIELDS) {
      (options as Record<string, string>)[field.name] = 'x';
    }
    const all = new Set(RUN_OPTIONS.map(row => row.name));
    const flags = magicFlags(options, all).split(' ');
    for (const field of FIELDS) {
      expect(flags).toContain(field.flag);
    }
    expect(flags).toContain('--env');
  });

  it('writes only the options the backend takes, from its option list', () => {
    const options = {
      image: 'us-docker.pkg.dev/p/r/img:1',
      gpus: '2',
      machine_type: 'n1-standard-8',
      accelerator: 'NVIDIA_TESLA_T4:1',
      region: 'europe-west4',
      project: 'my-proj',
      staging_bucket: 'gs://b',
      env: ['SEED=1']
    };
    expect(magicFlags({ ...options, backend: 'vertex' }, vertex)).toBe(
      '--backend vertex --image us-docker.pkg.dev/p/r/img:1 --project my-proj --region europe-west4 ' +
        '--machine-type n1-standard-8 --accelerator NVIDIA_TESLA_T4:1 --staging-bucket gs://b --env SEED=1'
    );
    expect(magicFlags({ ...options, backend: 'local' }, local)).toBe(
      '--backend local --image us-docker.pkg.dev/p/r/img:1 --gpus 2 --project my-proj --env SEED=1'
    );
    // A plugin backend that takes only what the server lists for it.
    expect(
      magicFlags(
        { ...options, backend: 'slurm' },
        new Set<RunOptionName>(['backend', 'project', 'env'])
      )
    ).toBe('--backend slurm --project my-proj --env SEED=1');
  });

  it('leaves out empty values and zero GPUs', () => {
    expect(
      magicFlags(
        { backend: 'local', image: '', gpus: '0', project: ' ' },
        local
      )
    ).toBe('--backend local');
  });
});

describe('optionProblems', () => {
  it('accepts one-word values', () => {
    expect(
      optionProblems({ image: 'python:3.11-slim', env: ['A=b=c'] })
    ).toEqual([]);
  });

  it('names values the magic line cannot carry', () => {
    expect(
      optionProblems({
        image: 'my image',
        project: "it's",
        env: ['NOEQUALS', 'A=b c']
      })
    ).toEqual([
      '--image "my image" contains whitespace, which the %%containerjob line cannot carry; remove it',
      "--project it's contains a quote, which the %%containerjob line would keep as part of the value; remove it",
      '--env NOEQUALS is not NAME=VALUE; write one NAME=VALUE per line',
      '--env "A=b c" contains whitespace, which the %%containerjob line cannot carry; remove it'
    ]);
  });
});

describe('withMagicLine', () => {
  it('puts the magic line above the code', () => {
    expect(withMagicLine('x = 1\nprint(x)', '--image a')).toBe(
      '%%containerjob --image a\nx = 1\nprint(x)'
    );
  });

  it('replaces an existing %%containerjob line and keeps the rest', () => {
    expect(withMagicLine('%%containerjob --gpus 2\nx = 1\n', '--image b')).toBe(
      '%%containerjob --image b\nx = 1\n'
    );
    expect(withMagicLine('%%containerjob', '--image b')).toBe(
      '%%containerjob --image b'
    );
  });

  it('does not take another magic for ours', () => {
    expect(withMagicLine('%%containerjobs x\ny', '--image b')).toBe(
      '%%containerjob --image b\n%%containerjobs x\ny'
    );
  });

  it('writes the bare magic for an empty cell and no flags', () => {
    expect(withMagicLine('', '')).toBe('%%containerjob');
  });
});

describe('announcements', () => {
  it('finds the job outputs among a cell outputs', () => {
    const outputs = [
      { output_type: 'stream', name: 'stdout', text: 'hi' },
      {
        output_type: 'display_data',
        data: {
          [JOB_MIME]: { id: 'cj-0a1b2c3d', backend: 'local', status: 'QUEUED' },
          'text/plain': 'containerjob cj-0a1b2c3d'
        },
        metadata: {}
      },
      {
        output_type: 'display_data',
        data: { [JOB_MIME]: { nope: 1 } },
        metadata: {}
      }
    ];
    expect(announcements(outputs)).toEqual([
      { id: 'cj-0a1b2c3d', backend: 'local', status: 'QUEUED' }
    ]);
  });
});

describe('cell metadata', () => {
  it('reads whatever a saved notebook left', () => {
    expect(readMetadata(undefined)).toEqual({});
    expect(
      readMetadata({ jobs: ['cj-1', 3, null], options: { image: 'x' } })
    ).toEqual({
      jobs: ['cj-1'],
      options: { image: 'x' }
    });
  });

  it('appends a job id once', () => {
    const once = withJob({ options: { image: 'x' } }, 'cj-1');
    expect(once).toEqual({ options: { image: 'x' }, jobs: ['cj-1'] });
    expect(withJob(once, 'cj-1')).toBe(once);
    expect(withJob(once, 'cj-2').jobs).toEqual(['cj-1', 'cj-2']);
  });
});
