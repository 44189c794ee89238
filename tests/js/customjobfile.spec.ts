import { ICustomJobFile } from '../../js_src/api';

import { containerJob, containerProblems } from '../../js_src/container';

import {
  fileFacts,
  filePlaceholders,
  isJobFile
} from '../../js_src/customjobfile';

const FILE: ICustomJobFile = {
  path: 'jobs/train.yaml',
  options: {
    image: 'python:3.11-slim',
    machine_type: 'n1-standard-8',
    accelerator: 'NVIDIA_TESLA_T4:1',
    env: ['WHO=file', 'TOKEN=x'],
    name: 'trainer',
    timeout: '600s'
  },
  command: ['python3', '-c', "print('hi')"],
  args: ['--epochs', '3'],
  command_text: `python3 -c "print('hi')"`,
  args_text: '--epochs 3',
  pools: [
    {
      image: 'python:3.11-slim',
      machine_type: 'n1-standard-4',
      replica_count: 2
    }
  ]
};

describe('CustomJob files in the Run a container form', () => {
  it('offers YAML and JSON files only', () => {
    expect(
      ['a.yaml', 'b.YML', 'c.json', 'd.ipynb', 'yaml', 'e.yaml.txt'].filter(
        isJobFile
      )
    ).toEqual(['a.yaml', 'b.YML', 'c.json']);
  });

  it('shows what a file sets, its words as the server joined them', () => {
    expect(fileFacts(FILE)).toEqual([
      ['Image', 'python:3.11-slim'],
      ['Command', `python3 -c "print('hi')"`],
      ['Arguments', '--epochs 3'],
      ['Machine', 'n1-standard-8 with NVIDIA_TESLA_T4:1'],
      ['Replicas', '3: the chief, then 2 × n1-standard-4 (python:3.11-slim)'],
      ['Environment', 'WHO, TOKEN'],
      ['Also sets', 'name, timeout']
    ]);
  });

  it('fills the empty Command and Arguments with the lines the server joined', () => {
    expect(filePlaceholders(FILE)).toEqual({
      image: 'from the file: python:3.11-slim',
      command: `from the file: python3 -c "print('hi')"`,
      args: 'from the file: --epochs 3'
    });
  });

  it("says a file without a command runs the image's own program", () => {
    const bare = {
      ...FILE,
      options: { image: 'x:1' },
      command: [],
      args: [],
      command_text: null,
      args_text: null,
      pools: []
    };

    expect(fileFacts(bare)).toEqual([
      ['Image', 'x:1'],
      ['Command', "the image's ENTRYPOINT"],
      ['Arguments', "none: the image's CMD"],
      ['Replicas', '1 (the chief alone)']
    ]);
    expect(filePlaceholders(bare)).toEqual({
      image: 'from the file: x:1',
      command: "the image's ENTRYPOINT",
      args: "none: the image's CMD"
    });
  });

  it('puts the file in the request and needs no image beside it', () => {
    expect(containerProblems({}, 'jobs/train.yaml')).toEqual([]);
    expect(containerProblems({}, ' ').map(p => p.field)).toEqual([
      'options.image'
    ]);
    expect(
      containerJob({ backend: 'local' }, "c 'd e'", ' jobs/train.yaml ')
    ).toEqual({
      kind: 'container',
      options: { backend: 'local' },
      args_text: "c 'd e'",
      config: 'jobs/train.yaml'
    });
    expect(containerJob({ image: 'x:1' }, '')).toEqual({
      kind: 'container',
      options: { image: 'x:1' }
    });
  });
});
