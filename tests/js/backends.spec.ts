import { ContainerJobAPI, IRunOptions } from '../../js_src/api';

import {
  backendChoices,
  backendLabel,
  blockedBy,
  initialChoice,
  tableOptions,
  withAvailability
} from '../../js_src/backends';

import { RUN_OPTIONS } from '../../js_src/options.generated';

import { BUILTIN_BACKENDS, FakeServer, backendInfo } from './fakeserver';

const names = (choices: { name: string }[]): string[] =>
  choices.map(c => c.name);

describe('backendChoices', () => {
  let server: FakeServer;
  let api: ContainerJobAPI;

  beforeEach(() => {
    server = new FakeServer();
    api = new ContainerJobAPI(server.settings);
  });

  it('offers for each action only the backends with that capability', async () => {
    const infos = await api.backends();

    expect(names(backendChoices(infos, 'cell', 'local'))).toEqual([
      'local',
      'vertex'
    ]);
    expect(names(backendChoices(infos, 'notebook', 'executor'))).toEqual([
      'local',
      'executor'
    ]);
    expect(names(backendChoices(infos, 'schedule', 'local'))).toEqual([
      'local',
      'executor'
    ]);
  });

  it('does not offer a backend without the notebook kind for notebooks', () => {
    const cellsOnly = backendInfo('slurm', {
      capabilities: {
        kinds: ['cell', 'script'],
        schedules: true,
        gpus: false,
        cancel: true,
        live_logs: true
      }
    });
    const infos = [...BUILTIN_BACKENDS, cellsOnly];

    expect(names(backendChoices(infos, 'notebook', 'local'))).not.toContain(
      'slurm'
    );
    expect(names(backendChoices(infos, 'schedule', 'local'))).not.toContain(
      'slurm'
    );
    expect(names(backendChoices(infos, 'cell', 'local'))).toContain('slurm');
  });

  it('keeps an unavailable backend with the server reason; the form starts on the asked one and says why it cannot run', async () => {
    server.on('GET backends', {
      status: 200,
      body: {
        backends: [
          backendInfo('local', {
            available: false,
            message: 'cannot reach the Docker engine'
          }),
          BUILTIN_BACKENDS[2]
        ]
      }
    });

    const choices = backendChoices(await api.backends(), 'notebook', 'local');

    expect(choices.map(c => [c.name, c.unavailable])).toEqual([
      ['local', 'cannot reach the Docker engine'],
      ['executor', null]
    ]);
    // Never a silent switch: the asked backend stays, held with its reason.
    expect(initialChoice(choices, 'local')?.name).toBe('local');
    expect(blockedBy(choices, 'local')).toBe(
      'local is unavailable: cannot reach the Docker engine; pick another backend, or fix it and open the form again'
    );
    expect(blockedBy(choices, 'executor')).toBeNull();
    // Nothing asked: the first that can run.
    expect(initialChoice(choices, undefined)?.name).toBe('executor');
    expect(initialChoice(choices, 'vertex')?.name).toBe('executor');
  });

  it('says there is nothing else to pick when no backend can run', async () => {
    const down = (name: string) =>
      backendInfo(name, { available: false, message: `${name} is down` });
    server.on('GET backends', {
      status: 200,
      body: { backends: [down('local'), down('executor')] }
    });

    const choices = backendChoices(await api.backends(), 'notebook', 'local');

    expect(initialChoice(choices, 'executor')?.name).toBe('executor');
    expect(blockedBy(choices, 'executor')).toBe(
      'executor is unavailable: executor is down; fix it and open the form again'
    );
  });

  it('renews availability from a later answer, keeping what the action offers', async () => {
    const choices = backendChoices(await api.backends(), 'cell', 'local');
    const later = [
      backendInfo('local', { available: false, message: 'engine stopped' })
    ];

    const renewed = withAvailability(choices, later);

    expect(renewed.map(c => [c.name, c.unavailable])).toEqual([
      ['local', 'engine stopped'],
      ['vertex', 'the server no longer lists it']
    ]);
    expect(withAvailability(choices, null)).toEqual(choices);
  });

  it('takes labels and option lists from the server', () => {
    const plugin = backendInfo('slurm', {
      label: 'Slurm cluster',
      options: ['backend', 'timeout']
    });

    const [choice] = backendChoices([plugin], 'cell', 'local');

    expect(choice.label).toBe('Slurm cluster');
    expect([...choice.options]).toEqual(['backend', 'timeout']);
  });

  it('falls back to the action backend and the option table when the server did not answer', async () => {
    server.on('GET backends', new TypeError('Failed to fetch'));
    const infos = await api.backends().catch(() => null);

    const choices = backendChoices(infos, 'notebook', 'executor');

    expect(choices).toEqual([
      {
        name: 'executor',
        label: 'Vertex AI Workbench Executor',
        unavailable: null,
        options: new Set(tableOptions('executor'))
      }
    ]);
    expect(choices[0].options.has('image')).toBe(false);
    expect(choices[0].options.has('runtime_template')).toBe(true);
  });
});

describe('the option table', () => {
  it('declares runtime_template for the executor only, in IRunOptions', () => {
    const options: IRunOptions = { runtime_template: 'workbench' };
    const row = RUN_OPTIONS.find(r => r.name === 'runtime_template');

    expect(options.runtime_template).toBe('workbench');
    expect(row?.flag).toBe('--runtime-template');
    expect(row?.backends).toEqual(['executor']);
  });

  it('gives a plugin backend the options declared for every backend', () => {
    const common = RUN_OPTIONS.filter(r => r.backends === null).map(
      r => r.name
    );

    expect(tableOptions('slurm')).toEqual(common);
    expect(common).toEqual(expect.arrayContaining(['backend', 'project']));
  });
});

describe('backendLabel', () => {
  it('prefers the server label, then the built-in one, then the name', () => {
    expect(backendLabel('local', 'Docker here')).toBe('Docker here');
    expect(backendLabel('vertex')).toBe('Vertex AI CustomJob');
    expect(backendLabel('slurm')).toBe('slurm');
  });
});
