/**
 * The run-option fields of the launch forms: label, help, placeholder (the
 * server's default where it has one) and the backends each applies to.
 */
import { BackendName, IRunOptions, IServerSettings } from '../api';

export type Field = keyof IRunOptions;

export interface IFieldSpec {
  label: string;
  /** Backends the field applies to. */
  backends: BackendName[];
  placeholder?: (server: IServerSettings | null) => string;
  help: string;
}

const REMOTE: BackendName[] = ['vertex', 'executor'];
const ALL: BackendName[] = ['local', 'vertex', 'executor'];

export const FIELDS: [Field, IFieldSpec][] = [
  [
    'image',
    {
      label: 'Image',
      backends: ALL,
      placeholder: s => s?.default_image ?? '',
      help: 'Container image the code runs in, as it is (nothing is built)'
    }
  ],
  [
    'gpus',
    {
      label: 'GPUs',
      backends: ['local'],
      placeholder: () => '0',
      help: 'N or all'
    }
  ],
  [
    'machine_type',
    {
      label: 'Machine type',
      backends: REMOTE,
      placeholder: () => 'n1-standard-4',
      help: 'Vertex AI machine type, e.g. n1-standard-8, a2-highgpu-1g'
    }
  ],
  [
    'accelerator',
    {
      label: 'Accelerator',
      backends: REMOTE,
      placeholder: () => 'NVIDIA_TESLA_T4:1',
      help: 'TYPE:COUNT; empty for none'
    }
  ],
  [
    'region',
    {
      label: 'Region',
      backends: REMOTE,
      placeholder: s => s?.region || 'us-central1',
      help: 'Vertex AI region'
    }
  ],
  [
    'project',
    {
      label: 'Project',
      backends: ALL,
      placeholder: s => s?.project ?? '',
      help: 'Google Cloud project ID injected into the job; empty: the resolved one below'
    }
  ],
  [
    'staging_bucket',
    {
      label: 'Staging bucket',
      backends: REMOTE,
      placeholder: s => s?.staging_bucket || 'gs://BUCKET',
      help: 'gs://BUCKET for the payload and results'
    }
  ],
  [
    'timeout',
    {
      label: 'Timeout',
      backends: ALL,
      placeholder: () => 'none',
      help: 'Fail the job after this long: 90s, 10m, 2h'
    }
  ]
];

export const BACKEND_LABELS: Record<BackendName, string> = {
  local: 'Local container (Docker)',
  vertex: 'Vertex AI CustomJob',
  executor: 'Vertex AI Workbench Executor'
};
