import { tableOptions } from '../../js_src/backends';

import { specForBackend } from '../../js_src/specview';

/** A local cell job's spec as the server stores it (StoredSpec). */
const LOCAL_SPEC = {
  worker_pools: [
    {
      image: 'python:3.11-slim',
      command: [],
      args: [],
      env: { A: '1' },
      machine_type: 'n1-standard-4',
      accelerator_type: null,
      accelerator_count: 0,
      replica_count: 1,
      boot_disk_size_gb: 100
    }
  ],
  display_name: 'containerjob',
  backend: 'local',
  base_output_dir: null,
  service_account: 'runner@p.iam.gserviceaccount.com',
  network: null,
  timeout_s: null,
  labels: { 'containerjob-job': 'job' },
  project: 'p',
  region: 'us-central1',
  mounts: [],
  staging_bucket: 'cj-staging',
  spot: false,
  requirements: [],
  image_repo: null,
  upload_on_failure: true,
  mount_credentials: false,
  runtime_template: null,
  payload: 'abc123',
  output_prefix: '',
  kind: 'cell'
};

describe('specForBackend', () => {
  it("drops from a local job's spec what only the Vertex AI options set", () => {
    const shown = specForBackend(LOCAL_SPEC, new Set(tableOptions('local')));
    const pool = (shown.worker_pools as Record<string, unknown>[])[0];

    expect(Object.keys(pool)).not.toContain('machine_type');
    expect(Object.keys(pool)).not.toContain('boot_disk_size_gb');
    // A cell job runs no command of its own: the container kind's option.
    expect(Object.keys(pool)).not.toContain('command');
    for (const vertexOnly of [
      'region',
      'service_account',
      'staging_bucket',
      'spot',
      'image_repo',
      'runtime_template'
    ]) {
      expect(Object.keys(shown)).not.toContain(vertexOnly);
    }
    // What a local run uses stays, and fields no option sets show when set.
    expect(pool).toMatchObject({
      image: 'python:3.11-slim',
      env: { A: '1' },
      accelerator_count: 0
    });
    expect(shown).toMatchObject({
      project: 'p',
      upload_on_failure: true,
      payload: 'abc123',
      kind: 'cell'
    });
    expect(Object.keys(shown)).not.toContain('network');
    expect(Object.keys(shown)).not.toContain('output_prefix');
  });

  it('keeps the machine of a Vertex AI job and drops the local-only fields', () => {
    const shown = specForBackend(
      { ...LOCAL_SPEC, backend: 'vertex', kind: 'container' },
      new Set(tableOptions('vertex'))
    );
    const pool = (shown.worker_pools as Record<string, unknown>[])[0];

    expect(pool).toMatchObject({
      command: [],
      machine_type: 'n1-standard-4',
      boot_disk_size_gb: 100
    });
    expect(shown).toMatchObject({ region: 'us-central1', spot: false });
    expect(Object.keys(shown)).not.toContain('mount_credentials');
    expect(Object.keys(shown)).not.toContain('upload_on_failure');
  });
});
