/**
 * Form defaults from the JupyterLab settings registry (schema/plugin.json).
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { IRunOptions } from './api';

/** Id of the plugin whose schema is schema/plugin.json. */
export const PLUGIN_ID = 'containerjob:plugin';

export interface IDefaults {
  backend: 'local' | 'vertex';
  image: string;
  gpus: string;
  machine_type: string;
  accelerator: string;
  region: string;
  project: string;
  staging_bucket: string;
  notifications: boolean;
}

export const EMPTY_DEFAULTS: IDefaults = {
  backend: 'local',
  image: '',
  gpus: '',
  machine_type: '',
  accelerator: '',
  region: '',
  project: '',
  staging_bucket: '',
  notifications: true
};

/** Settings keys (camelCase in the schema) -> option names. */
const KEYS: [keyof IDefaults, string][] = [
  ['backend', 'defaultBackend'],
  ['image', 'image'],
  ['gpus', 'gpus'],
  ['machine_type', 'machineType'],
  ['accelerator', 'accelerator'],
  ['region', 'region'],
  ['project', 'project'],
  ['staging_bucket', 'stagingBucket'],
  ['notifications', 'notifications']
];

/** The user's defaults (schema defaults where unset). */
export function readDefaults(
  settings: ISettingRegistry.ISettings | null
): IDefaults {
  const values: Record<string, unknown> = { ...EMPTY_DEFAULTS };
  if (settings) {
    for (const [name, key] of KEYS) {
      const value = settings.get(key).composite;
      if (value !== undefined && value !== null) {
        values[name] = typeof value === 'number' ? String(value) : value;
      }
    }
  }
  return values as unknown as IDefaults;
}

/** The run options a form starts with: the user's defaults, then `previous`. */
export function initialOptions(
  defaults: IDefaults,
  previous: IRunOptions = {}
): IRunOptions {
  const base: IRunOptions = {
    backend: defaults.backend,
    image: defaults.image,
    gpus: defaults.gpus,
    machine_type: defaults.machine_type,
    accelerator: defaults.accelerator,
    region: defaults.region,
    project: defaults.project,
    staging_bucket: defaults.staging_bucket
  };
  for (const [key, value] of Object.entries(previous)) {
    if (value !== undefined && value !== null && value !== '') {
      (base as Record<string, unknown>)[key] = value;
    }
  }
  return base;
}
