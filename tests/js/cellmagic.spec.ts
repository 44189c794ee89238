import {
  JOB_MIME,
  announcements,
  cellCode,
  magicLineOf,
  readMetadata,
  withJob,
  withMagicLine
} from '../../js_src/cellmagic';

describe('magicLineOf', () => {
  it('is the flags after %%containerjob on the first line', () => {
    expect(
      magicLineOf(
        '%%containerjob --name quickstart --env GREETING=hello\nimport os'
      )
    ).toBe('--name quickstart --env GREETING=hello');
    expect(magicLineOf('%%containerjob\nx = 1')).toBe('');
    expect(magicLineOf('%%containerjob \t--gpus 1  ')).toBe('--gpus 1');
  });

  it('is null for a cell without our magic', () => {
    expect(magicLineOf('x = 1\n%%containerjob --gpus 1')).toBeNull();
    expect(magicLineOf('%%containerjobs x')).toBeNull();
    expect(magicLineOf('')).toBeNull();
  });

  it('leaves the code below the line', () => {
    expect(cellCode('%%containerjob --gpus 1\nx = 1\ny = 2')).toBe(
      'x = 1\ny = 2'
    );
    expect(cellCode('%%containerjob')).toBe('');
    expect(cellCode('x = 1')).toBe('x = 1');
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
        data: {
          [JOB_MIME]: {
            id: 'cj-00000001',
            backend: 'local',
            status: 'SUCCEEDED',
            view: 'text'
          }
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
      {
        id: 'cj-0a1b2c3d',
        backend: 'local',
        status: 'QUEUED',
        view: 'widgets'
      },
      { id: 'cj-00000001', backend: 'local', status: 'SUCCEEDED', view: 'text' }
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
