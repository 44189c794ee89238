// Generated from python_pkg/containerjob/core/option_table.py by `python .ci/generate_options.py`; do not edit.

/** Run options as the REST API takes them (`RunOptions`). */
export interface IRunOptions {
  /** container image the code runs in, as it is (default: python:X.Y-slim matching this Python) */
  image?: string;
  /** the program a container job runs instead of the image's ENTRYPOINT, split into words as a shell would (never run by a shell); Vertex AI's containerSpec.command */
  command?: string;
  /** GPUs for the container: N or all (Docker device requests) */
  gpus?: string;
  /** environment variable NAME=VALUE (repeatable) */
  env?: string[];
  /** environment variable NAME=VALUE whose value is a secret: it reaches the job as --env does, and is shown and kept as *** everywhere else (repeatable) */
  secret_env?: string[];
  /** GCP project ID injected into the job as GOOGLE_CLOUD_PROJECT etc. (default: the resolved one) */
  project?: string;
  /** base output directory (a folder, or gs://BUCKET/PREFIX): sets AIP_MODEL_DIR, AIP_CHECKPOINT_DIR, AIP_TENSORBOARD_LOG_DIR */
  output_dir?: string;
  /** fail the job after this long: 90, 90s, 10m, 2h, 1d */
  timeout?: string;
  /** display name of the job */
  name?: string;
  /** where to run: local (default), vertex (cells, scripts) or executor (notebooks) */
  backend?: string;
  /** label key=value (repeatable) */
  labels?: string[];
  /** Cloud Storage at /gcs/BUCKET inside the job; MODE sync (default) or fuse (repeatable) */
  mounts?: string[];
  /** mount this machine's application default credentials read-only in the job */
  credentials?: boolean;
  /** sync mounts: upload nothing when the job fails */
  upload_on_failure?: boolean;
  /** ship the files of the script's folder that match PATTERN (gitignore style) although they look like secrets and stay home (.env*, .aws/, .ssh/, .netrc, *.pem, *credentials*) (repeatable) */
  include?: string[];
  /** Vertex AI region (default us-central1) */
  region?: string;
  /** Vertex AI machine type, e.g. n1-standard-8, a2-highgpu-1g */
  machine_type?: string;
  /** Vertex AI accelerator TYPE:COUNT, e.g. NVIDIA_TESLA_T4:1 */
  accelerator?: string;
  /** replicas of the job: the chief (workerpool0) and N-1 workers (workerpool1), each told the others' addresses in CLUSTER_SPEC/TF_CONFIG; locally one container each on a network of their own */
  replicas?: string;
  /** Vertex AI Spot VMs (scheduling strategy SPOT) */
  spot?: boolean;
  /** the service account the Vertex AI job runs as (the Workbench Executor needs one) */
  service_account?: string;
  /** gs://BUCKET for the payload and results of Vertex AI jobs */
  staging_bucket?: string;
  /** requirements.txt baked into a content-hashed image (built once) */
  requirements?: string;
  /** a requirement such as pandas==2.2, baked in like --requirements (repeatable); `kernel`: the kernel's versions of what the code imports and its inputs need */
  pip?: string[];
  /** registry path that built or local-only images are pushed to for Vertex AI */
  image_repo?: string;
  /** a NotebookRuntimeTemplate resource name, or `workbench` for a Workbench runtime (default: a custom environment from --machine-type) */
  runtime_template?: string;
  /** run the job once per value, each job seeing NAME as a variable (a cell) or as {NAME} in its arguments (a script, a container); values are Python literals, else text; repeated: the product of all (core/sweep.py) */
  sweep?: string[];
  /** the sweep's grid from YAML: a mapping of lists (their product) or a list of combinations */
  sweep_file?: string;
  /** a sweep's jobs running at once (default: 2; local jobs with --gpus N: one per N of this machine's GPUs) */
  parallel?: string;
  /** the kernel variable a sweep's table of results goes to (default sweep_results) */
  sweep_into?: string;
  /** run a job that was killed or exited with a --retry-on code again, up to N times; each attempt's log and exit code are kept (Vertex AI: the CustomJob is submitted again) */
  retries?: string;
  /** the exit codes --retries runs a job again for (default: 137, killed, and the codes Vertex AI retries itself: 6,134 SIGABRT and 11,139 SIGSEGV) */
  retry_on?: string;
}

export type RunOptionName = keyof IRunOptions;

/** How a launch form shows an option; `setting` names the server setting used as placeholder. */
export interface IFormSpec {
  label: string;
  placeholder: string;
  setting: string | null;
}

/** One row of the option table. `backends: null` means every backend accepts it. */
export interface IRunOptionSpec {
  name: RunOptionName;
  flag: string;
  kind: 'text' | 'flag' | 'list';
  help: string;
  metavar: string | null;
  choices: string[] | null;
  backends: string[] | null;
  kinds: string[];
  negated: boolean;
  form: IFormSpec | null;
  /** JobSpec fields the option sets; a worker pool's as `worker_pools.NAME`. */
  spec: string[];
}

export const RUN_OPTIONS: IRunOptionSpec[] = [
  {
    "name": "image",
    "flag": "--image",
    "kind": "text",
    "help": "container image the code runs in, as it is (default: python:X.Y-slim matching this Python)",
    "metavar": null,
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Image",
      "placeholder": "",
      "setting": "default_image"
    },
    "spec": [
      "worker_pools.image"
    ]
  },
  {
    "name": "command",
    "flag": "--command",
    "kind": "text",
    "help": "the program a container job runs instead of the image's ENTRYPOINT, split into words as a shell would (never run by a shell); Vertex AI's containerSpec.command",
    "metavar": "'PROG ARG...'",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Command",
      "placeholder": "the image's ENTRYPOINT",
      "setting": null
    },
    "spec": [
      "worker_pools.command"
    ]
  },
  {
    "name": "gpus",
    "flag": "--gpus",
    "kind": "text",
    "help": "GPUs for the container: N or all (Docker device requests)",
    "metavar": "N|all",
    "choices": null,
    "backends": [
      "local"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "GPUs",
      "placeholder": "0",
      "setting": null
    },
    "spec": [
      "worker_pools.accelerator_count",
      "worker_pools.accelerator_type"
    ]
  },
  {
    "name": "env",
    "flag": "--env",
    "kind": "list",
    "help": "environment variable NAME=VALUE (repeatable)",
    "metavar": "K=V",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "worker_pools.env"
    ]
  },
  {
    "name": "secret_env",
    "flag": "--secret-env",
    "kind": "list",
    "help": "environment variable NAME=VALUE whose value is a secret: it reaches the job as --env does, and is shown and kept as *** everywhere else (repeatable)",
    "metavar": "K=V",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "worker_pools.env"
    ]
  },
  {
    "name": "project",
    "flag": "--project",
    "kind": "text",
    "help": "GCP project ID injected into the job as GOOGLE_CLOUD_PROJECT etc. (default: the resolved one)",
    "metavar": null,
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Project",
      "placeholder": "",
      "setting": "project"
    },
    "spec": [
      "project"
    ]
  },
  {
    "name": "output_dir",
    "flag": "--output-dir",
    "kind": "text",
    "help": "base output directory (a folder, or gs://BUCKET/PREFIX): sets AIP_MODEL_DIR, AIP_CHECKPOINT_DIR, AIP_TENSORBOARD_LOG_DIR",
    "metavar": null,
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "base_output_dir",
      "mounts"
    ]
  },
  {
    "name": "timeout",
    "flag": "--timeout",
    "kind": "text",
    "help": "fail the job after this long: 90, 90s, 10m, 2h, 1d",
    "metavar": null,
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Timeout",
      "placeholder": "none",
      "setting": null
    },
    "spec": [
      "timeout_s"
    ]
  },
  {
    "name": "name",
    "flag": "--name",
    "kind": "text",
    "help": "display name of the job",
    "metavar": null,
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "display_name",
      "labels"
    ]
  },
  {
    "name": "backend",
    "flag": "--backend",
    "kind": "text",
    "help": "where to run: local (default), vertex (cells, scripts) or executor (notebooks)",
    "metavar": null,
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "backend"
    ]
  },
  {
    "name": "labels",
    "flag": "--label",
    "kind": "list",
    "help": "label key=value (repeatable)",
    "metavar": "K=V",
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "labels"
    ]
  },
  {
    "name": "mounts",
    "flag": "--mount",
    "kind": "list",
    "help": "Cloud Storage at /gcs/BUCKET inside the job; MODE sync (default) or fuse (repeatable)",
    "metavar": "gs://BUCKET[/PREFIX][:MODE]",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "mounts"
    ]
  },
  {
    "name": "credentials",
    "flag": "--credentials",
    "kind": "flag",
    "help": "mount this machine's application default credentials read-only in the job",
    "metavar": null,
    "choices": null,
    "backends": [
      "local"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "mount_credentials"
    ]
  },
  {
    "name": "upload_on_failure",
    "flag": "--no-upload-on-failure",
    "kind": "flag",
    "help": "sync mounts: upload nothing when the job fails",
    "metavar": null,
    "choices": null,
    "backends": [
      "local"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": true,
    "form": null,
    "spec": [
      "upload_on_failure"
    ]
  },
  {
    "name": "include",
    "flag": "--include",
    "kind": "list",
    "help": "ship the files of the script's folder that match PATTERN (gitignore style) although they look like secrets and stay home (.env*, .aws/, .ssh/, .netrc, *.pem, *credentials*) (repeatable)",
    "metavar": "PATTERN",
    "choices": null,
    "backends": null,
    "kinds": [
      "script"
    ],
    "negated": false,
    "form": null,
    "spec": []
  },
  {
    "name": "region",
    "flag": "--region",
    "kind": "text",
    "help": "Vertex AI region (default us-central1)",
    "metavar": null,
    "choices": null,
    "backends": [
      "vertex",
      "executor"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Region",
      "placeholder": "us-central1",
      "setting": "region"
    },
    "spec": [
      "region"
    ]
  },
  {
    "name": "machine_type",
    "flag": "--machine-type",
    "kind": "text",
    "help": "Vertex AI machine type, e.g. n1-standard-8, a2-highgpu-1g",
    "metavar": null,
    "choices": null,
    "backends": [
      "vertex",
      "executor"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Machine type",
      "placeholder": "n1-standard-4",
      "setting": null
    },
    "spec": [
      "worker_pools.machine_type",
      "worker_pools.boot_disk_size_gb"
    ]
  },
  {
    "name": "accelerator",
    "flag": "--accelerator",
    "kind": "text",
    "help": "Vertex AI accelerator TYPE:COUNT, e.g. NVIDIA_TESLA_T4:1",
    "metavar": "TYPE:COUNT",
    "choices": null,
    "backends": [
      "vertex",
      "executor"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Accelerator",
      "placeholder": "NVIDIA_TESLA_T4:1",
      "setting": null
    },
    "spec": [
      "worker_pools.accelerator_type",
      "worker_pools.accelerator_count"
    ]
  },
  {
    "name": "replicas",
    "flag": "--replicas",
    "kind": "text",
    "help": "replicas of the job: the chief (workerpool0) and N-1 workers (workerpool1), each told the others' addresses in CLUSTER_SPEC/TF_CONFIG; locally one container each on a network of their own",
    "metavar": "N",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "worker_pools.replica_count"
    ]
  },
  {
    "name": "spot",
    "flag": "--spot",
    "kind": "flag",
    "help": "Vertex AI Spot VMs (scheduling strategy SPOT)",
    "metavar": null,
    "choices": null,
    "backends": [
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "spot"
    ]
  },
  {
    "name": "service_account",
    "flag": "--service-account",
    "kind": "text",
    "help": "the service account the Vertex AI job runs as (the Workbench Executor needs one)",
    "metavar": null,
    "choices": null,
    "backends": [
      "vertex",
      "executor"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Service account",
      "placeholder": "NAME@PROJECT.iam.gserviceaccount.com",
      "setting": "service_account"
    },
    "spec": [
      "service_account"
    ]
  },
  {
    "name": "staging_bucket",
    "flag": "--staging-bucket",
    "kind": "text",
    "help": "gs://BUCKET for the payload and results of Vertex AI jobs",
    "metavar": null,
    "choices": null,
    "backends": [
      "vertex",
      "executor"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Staging bucket",
      "placeholder": "gs://BUCKET",
      "setting": "staging_bucket"
    },
    "spec": [
      "staging_bucket"
    ]
  },
  {
    "name": "requirements",
    "flag": "--requirements",
    "kind": "text",
    "help": "requirements.txt baked into a content-hashed image (built once)",
    "metavar": "FILE",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "requirements"
    ]
  },
  {
    "name": "pip",
    "flag": "--pip",
    "kind": "list",
    "help": "a requirement such as pandas==2.2, baked in like --requirements (repeatable); `kernel`: the kernel's versions of what the code imports and its inputs need",
    "metavar": "PKG",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "requirements"
    ]
  },
  {
    "name": "image_repo",
    "flag": "--image-repo",
    "kind": "text",
    "help": "registry path that built or local-only images are pushed to for Vertex AI",
    "metavar": null,
    "choices": null,
    "backends": [
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": [
      "image_repo"
    ]
  },
  {
    "name": "runtime_template",
    "flag": "--runtime-template",
    "kind": "text",
    "help": "a NotebookRuntimeTemplate resource name, or `workbench` for a Workbench runtime (default: a custom environment from --machine-type)",
    "metavar": null,
    "choices": null,
    "backends": [
      "executor"
    ],
    "kinds": [
      "notebook"
    ],
    "negated": false,
    "form": {
      "label": "Runtime template",
      "placeholder": "none: a custom environment",
      "setting": null
    },
    "spec": [
      "runtime_template"
    ]
  },
  {
    "name": "sweep",
    "flag": "--sweep",
    "kind": "list",
    "help": "run the job once per value, each job seeing NAME as a variable (a cell) or as {NAME} in its arguments (a script, a container); values are Python literals, else text; repeated: the product of all (core/sweep.py)",
    "metavar": "NAME=V1,V2,...",
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": []
  },
  {
    "name": "sweep_file",
    "flag": "--sweep-file",
    "kind": "text",
    "help": "the sweep's grid from YAML: a mapping of lists (their product) or a list of combinations",
    "metavar": "FILE",
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": []
  },
  {
    "name": "parallel",
    "flag": "--parallel",
    "kind": "text",
    "help": "a sweep's jobs running at once (default: 2; local jobs with --gpus N: one per N of this machine's GPUs)",
    "metavar": "N",
    "choices": null,
    "backends": null,
    "kinds": [
      "cell",
      "script",
      "container"
    ],
    "negated": false,
    "form": null,
    "spec": []
  },
  {
    "name": "sweep_into",
    "flag": "--sweep-into",
    "kind": "text",
    "help": "the kernel variable a sweep's table of results goes to (default sweep_results)",
    "metavar": "NAME",
    "choices": null,
    "backends": null,
    "kinds": [
      "cell"
    ],
    "negated": false,
    "form": null,
    "spec": []
  },
  {
    "name": "retries",
    "flag": "--retries",
    "kind": "text",
    "help": "run a job that was killed or exited with a --retry-on code again, up to N times; each attempt's log and exit code are kept (Vertex AI: the CustomJob is submitted again)",
    "metavar": "N",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Retries",
      "placeholder": "0",
      "setting": null
    },
    "spec": [
      "retries"
    ]
  },
  {
    "name": "retry_on",
    "flag": "--retry-on",
    "kind": "text",
    "help": "the exit codes --retries runs a job again for (default: 137, killed, and the codes Vertex AI retries itself: 6,134 SIGABRT and 11,139 SIGSEGV)",
    "metavar": "CODE,...",
    "choices": null,
    "backends": [
      "local",
      "vertex"
    ],
    "kinds": [
      "cell",
      "script",
      "notebook",
      "container"
    ],
    "negated": false,
    "form": {
      "label": "Retry on exit codes",
      "placeholder": "6,11,134,137,139",
      "setting": null
    },
    "spec": [
      "retry_on"
    ]
  }
];

/** Options each built-in backend accepts (the server's `GET backends` says it for every backend). */
export const OPTIONS_BY_BACKEND: Record<string, RunOptionName[]> = {
  "local": [
    "image",
    "command",
    "gpus",
    "env",
    "secret_env",
    "project",
    "output_dir",
    "timeout",
    "name",
    "backend",
    "labels",
    "mounts",
    "credentials",
    "upload_on_failure",
    "include",
    "replicas",
    "requirements",
    "pip",
    "sweep",
    "sweep_file",
    "parallel",
    "sweep_into",
    "retries",
    "retry_on"
  ],
  "vertex": [
    "image",
    "command",
    "env",
    "secret_env",
    "project",
    "output_dir",
    "timeout",
    "name",
    "backend",
    "labels",
    "mounts",
    "include",
    "region",
    "machine_type",
    "accelerator",
    "replicas",
    "spot",
    "service_account",
    "staging_bucket",
    "requirements",
    "pip",
    "image_repo",
    "sweep",
    "sweep_file",
    "parallel",
    "sweep_into",
    "retries",
    "retry_on"
  ],
  "executor": [
    "project",
    "timeout",
    "name",
    "backend",
    "labels",
    "include",
    "region",
    "machine_type",
    "accelerator",
    "service_account",
    "staging_bucket",
    "runtime_template",
    "sweep",
    "sweep_file",
    "parallel",
    "sweep_into"
  ]
};
