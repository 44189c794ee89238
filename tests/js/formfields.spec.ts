import { IServerSettings } from '../../js_src/api';

import { backendChoices } from '../../js_src/backends';

import { RUN_OPTIONS } from '../../js_src/options.generated';

import {
  FIELDS,
  onForm,
  onGoogleCloud,
  placeholder,
  serverDefault,
  sends,
  shows
} from '../../js_src/widgets/formfields';

import { BUILTIN_BACKENDS, backendInfo } from './fakeserver';

const SERVER: IServerSettings = {
  default_backend: 'local',
  default_image: 'python:3.12-slim',
  project: 'my-proj',
  project_source: 'gcloud config',
  region: '',
  staging_bucket: 'gs://stage',
  image_repo: '',
  service_account: '',
  home: '/home/u/.containerjob'
};

function field(name: string) {
  const found = FIELDS.find(f => f.name === name);
  if (!found) {
    throw new Error(`no field ${name}`);
  }
  return found;
}

describe('form fields', () => {
  it('are the option table rows that declare a form, in its order', () => {
    expect(FIELDS.map(f => f.name)).toEqual(
      RUN_OPTIONS.filter(r => r.form).map(r => r.name)
    );
    expect(field('machine_type').form.label).toBe('Machine type');
    expect(field('image').help).toBe(
      RUN_OPTIONS.find(r => r.name === 'image')!.help
    );
  });

  it('take the placeholder from the named server setting when it has a value', () => {
    expect(placeholder(field('image'), SERVER)).toBe('python:3.12-slim');
    expect(placeholder(field('staging_bucket'), SERVER)).toBe('gs://stage');
    expect(placeholder(field('region'), SERVER)).toBe('us-central1');
    expect(placeholder(field('region'), null)).toBe('us-central1');
    expect(placeholder(field('gpus'), SERVER)).toBe('0');
  });

  it('show on each backend only the options its server list has', () => {
    const [local, executor] = backendChoices(
      BUILTIN_BACKENDS,
      'notebook',
      'local'
    );
    const shown = (choice: typeof local) =>
      FIELDS.filter(f => shows(f.name, choice, 'notebook')).map(f => f.name);

    // a local form says nothing of Google Cloud: no Project field
    expect(shown(local)).toEqual([
      'image',
      'gpus',
      'timeout',
      'retries',
      'retry_on'
    ]);
    expect(shown(executor)).toEqual([
      'project',
      'timeout',
      'region',
      'machine_type',
      'accelerator',
      'service_account',
      'staging_bucket',
      'runtime_template'
    ]);
    expect(shows('image', executor, 'notebook')).toBe(false);
    expect(shows('env', executor, 'notebook')).toBe(false);
    expect(shows('env', local, 'notebook')).toBe(true);
    // --secret-env has its own text box wherever --env has one
    expect(onForm('secret_env', local, 'notebook')).toBe(true);
    expect(onForm('secret_env', executor, 'notebook')).toBe(false);
  });

  it('show the Project only on a backend that runs on Google Cloud', () => {
    const [local, vertex] = backendChoices(BUILTIN_BACKENDS, 'cell', 'local');
    expect(onGoogleCloud(local)).toBe(false);
    expect(onGoogleCloud(vertex)).toBe(true);
    expect(shows('project', local, 'cell')).toBe(false);
    expect(onForm('project', local, 'cell')).toBe(false);
    expect(shows('project', vertex, 'cell')).toBe(true);
  });

  it('send the project of the settings to a local job that does not show it', () => {
    const [local, vertex] = backendChoices(BUILTIN_BACKENDS, 'cell', 'local');
    expect(sends('project', local, 'cell')).toBe(true);
    expect(sends('project', vertex, 'cell')).toBe(true);
    expect(sends('region', local, 'cell')).toBe(false);
  });

  it('name the server setting a field gets when left empty', () => {
    expect(serverDefault(field('image'), SERVER)).toBe('python:3.12-slim');
    expect(serverDefault(field('region'), SERVER)).toBe('');
    expect(serverDefault(field('gpus'), SERVER)).toBe('');
    expect(serverDefault(field('image'), null)).toBe('');
  });

  it('follow what the server says over the table', () => {
    const [executor] = backendChoices(
      [
        backendInfo('executor', {
          capabilities: BUILTIN_BACKENDS[2].capabilities,
          options: ['backend', 'image']
        })
      ],
      'notebook',
      'executor'
    );

    expect(shows('image', executor, 'notebook')).toBe(true);
    expect(shows('region', executor, 'notebook')).toBe(false);
    expect(shows('image', undefined, 'notebook')).toBe(false);
  });
});
