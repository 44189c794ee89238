import { ContainerJobAPI, IRunOptions } from '../../js_src/api';

import { backendChoices } from '../../js_src/backends';

import {
  containerFacts,
  containerJob,
  containerProblems
} from '../../js_src/container';

import { FIELDS, shows } from '../../js_src/widgets/formfields';

import { BUILTIN_BACKENDS, FakeServer, backendInfo, job } from './fakeserver';

const IMAGE = 'python:3.11-slim';
const HELLO = `python3 -c "print('hello from a container')"`;

describe('the Run a container form', () => {
  it('offers only the backends that run container jobs', () => {
    const slurm = backendInfo('slurm'); // cells, scripts and notebooks only
    const choices = backendChoices(
      [...BUILTIN_BACKENDS, slurm],
      'container',
      'local'
    );

    expect(choices.map(c => c.name)).toEqual(['local', 'vertex']);
  });

  it('shows the fields the option table gives container jobs on each backend', () => {
    const [local, vertex] = backendChoices(
      BUILTIN_BACKENDS,
      'container',
      'local'
    );
    const shown = (choice: typeof local) =>
      FIELDS.filter(f => shows(f.name, choice, 'container')).map(f => f.name);

    expect(shown(local)).toEqual([
      'image',
      'command',
      'gpus',
      'project',
      'timeout'
    ]);
    expect(shown(vertex)).toEqual([
      'image',
      'command',
      'project',
      'timeout',
      'region',
      'machine_type',
      'accelerator',
      'service_account',
      'staging_bucket'
    ]);
    expect(shows('env', local, 'container')).toBe(true);
    expect(shows('env', vertex, 'container')).toBe(true);
    // The Python-only options are not for container jobs.
    expect(shows('requirements', local, 'container')).toBe(false);
    expect(shows('pip', vertex, 'container')).toBe(false);
    expect(shows('requirements', local, 'cell')).toBe(true);
  });

  it('shows Command only to container jobs', () => {
    const [local] = backendChoices(BUILTIN_BACKENDS, 'cell', 'local');

    expect(shows('command', local, 'cell')).toBe(false);
    expect(shows('command', local, 'notebook')).toBe(false);
    expect(shows('command', local, 'container')).toBe(true);
  });

  it('falls back to the table options when the server does not answer', () => {
    const [vertex] = backendChoices(null, 'container', 'vertex');

    expect(shows('command', vertex, 'container')).toBe(true);
    expect(shows('machine_type', vertex, 'container')).toBe(true);
    expect(shows('gpus', vertex, 'container')).toBe(false);
  });
});

describe('containerProblems', () => {
  it('requires an image', () => {
    expect(containerProblems({ backend: 'local' }, '')).toEqual([
      {
        field: 'options.image',
        message: expect.stringMatching(/^Image is required/)
      }
    ]);
    expect(containerProblems({ image: '  ' }, '')).toHaveLength(1);
    expect(containerProblems({ image: IMAGE }, '')).toEqual([]);
  });

  it('names Arguments that cannot be split into words (the server splits the Command)', () => {
    const problems = containerProblems(
      { image: IMAGE, command: `python3 -c 'print(1)` },
      '--name "my run'
    );

    expect(problems).toEqual([
      {
        field: 'args',
        message: expect.stringMatching(
          /^Arguments: no closing quotation: the " /
        )
      }
    ]);
  });
});

describe('containerJob', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
    server.on('POST jobs', { status: 201, body: job('cj-c1') });
  });

  it('POSTs kind container with the options as typed and the arguments as words', async () => {
    const options: IRunOptions = {
      backend: 'local',
      image: IMAGE,
      command: HELLO,
      env: ['SEED=1'],
      timeout: '10m'
    };

    await api.submitJob(
      containerJob(options, `--epochs 3 --name 'my run' --note "a \\"b\\""`)
    );

    const [request] = server.calls('POST jobs');
    expect(request.body).toEqual({
      kind: 'container',
      options: {
        backend: 'local',
        image: IMAGE,
        command: HELLO, // the server splits it, as the CLI's --command
        env: ['SEED=1'],
        timeout: '10m'
      },
      args: ['--epochs', '3', '--name', 'my run', '--note', 'a "b"']
    });
  });

  it('leaves args out when there are none: the image keeps its CMD', async () => {
    await api.submitJob(
      containerJob(
        { backend: 'vertex', image: 'us-docker.pkg.dev/p/r/t:1' },
        '  '
      )
    );

    expect(server.calls('POST jobs')[0].body).toEqual({
      kind: 'container',
      options: { backend: 'vertex', image: 'us-docker.pkg.dev/p/r/t:1' }
    });
  });

  it('refuses Arguments it cannot split', () => {
    expect(() => containerJob({ image: IMAGE }, "'")).toThrow(
      /^no closing quotation/
    );
  });
});

describe('containerFacts', () => {
  const spec = (kind: string, command: string[], args: string[]) => ({
    kind,
    worker_pools: [{ image: IMAGE, command, args }]
  });

  it('shows the command and the arguments of a container job, quoted to paste back', () => {
    const facts = containerFacts(
      job('cj-c2', {
        spec: spec(
          'container',
          ['python3', '-c', "print('hello from a container')"],
          ['--name', 'my run']
        )
      })
    );

    expect(facts).toEqual([
      ['Command', HELLO],
      ['Arguments', "--name 'my run'"]
    ]);
  });

  it("says when the image's own ENTRYPOINT and CMD run", () => {
    expect(
      containerFacts(job('cj-c3', { spec: spec('container', [], []) }))
    ).toEqual([
      ['Command', "the image's ENTRYPOINT"],
      ['Arguments', "none: the image's CMD"]
    ]);
    expect(
      containerFacts(job('cj-c4', { spec: spec('container', ['true'], []) }))
    ).toEqual([
      ['Command', 'true'],
      ['Arguments', 'none']
    ]);
  });

  it('shows nothing for other kinds, old records and odd specs', () => {
    const runner = ['python3', '-u', '/cj/runtime/runner.py'];

    expect(
      containerFacts(job('a', { spec: spec('cell', runner, []) }))
    ).toEqual([]);
    expect(containerFacts(job('b', { spec: spec('', runner, []) }))).toEqual(
      []
    );
    expect(containerFacts(job('c', { spec: {} }))).toEqual([]);
    expect(
      containerFacts(
        job('d', { spec: { kind: 'container', worker_pools: 'x' } })
      )
    ).toEqual([
      ['Command', "the image's ENTRYPOINT"],
      ['Arguments', "none: the image's CMD"]
    ]);
  });
});
