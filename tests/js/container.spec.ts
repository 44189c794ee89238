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
      'timeout',
      'retries',
      'retry_on'
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
      'staging_bucket',
      'retries',
      'retry_on'
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
    expect(containerProblems({ backend: 'local' })).toEqual([
      {
        field: 'options.image',
        message: expect.stringMatching(/^Image is required/)
      }
    ]);
    expect(containerProblems({ image: '  ' })).toHaveLength(1);
    expect(containerProblems({ image: IMAGE })).toEqual([]);
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

  it('POSTs kind container with the options and the Arguments as typed: the server splits both', async () => {
    const options: IRunOptions = {
      backend: 'local',
      image: IMAGE,
      command: HELLO,
      env: ['SEED=1'],
      timeout: '10m'
    };
    const typed = `--epochs 3 --name 'my run' --note "a \\"b\\""`;

    await api.submitJob(containerJob(options, typed));

    const [request] = server.calls('POST jobs');
    expect(request.body).toEqual({
      kind: 'container',
      options: {
        backend: 'local',
        image: IMAGE,
        command: HELLO, // split by the server, as the CLI's --command
        env: ['SEED=1'],
        timeout: '10m'
      },
      args_text: typed // split by the server too, unclosed quotes included
    });
  });

  it('leaves the arguments out when there are none: the image keeps its CMD', async () => {
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
});

describe('containerFacts', () => {
  const container = (
    command_text: string | null,
    args_text: string | null,
    kind = 'container'
  ) =>
    job('cj-c2', {
      spec: { kind, worker_pools: [{ image: IMAGE }] },
      command_text,
      args_text
    });

  it('shows the command and the arguments as the server joined them', () => {
    expect(containerFacts(container(HELLO, "--name 'my run'"))).toEqual([
      ['Command', HELLO],
      ['Arguments', "--name 'my run'"]
    ]);
  });

  it("says when the image's own ENTRYPOINT and CMD run", () => {
    expect(containerFacts(container(null, null))).toEqual([
      ['Command', "the image's ENTRYPOINT"],
      ['Arguments', "none: the image's CMD"]
    ]);
    expect(containerFacts(container('true', null))).toEqual([
      ['Command', 'true'],
      ['Arguments', 'none']
    ]);
  });

  it('shows nothing for other kinds and old records', () => {
    const runner = 'python3 -u /cj/runtime/runner.py';

    expect(containerFacts(container(runner, null, 'cell'))).toEqual([]);
    expect(containerFacts(container(runner, null, ''))).toEqual([]);
    expect(containerFacts(job('c', { spec: {} }))).toEqual([]);
  });
});
