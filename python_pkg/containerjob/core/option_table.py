"""The run options, declared once. The magic's and the CLI's arguments, `RunOptions`, REST validation,
the openapi RunOptions schema and js_src/options.generated.ts are all produced from this table
(core/options.py), so adding an option is one entry here (then `python .ci/generate_options.py`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

Kind = Literal["text", "flag", "list"]
JOB_KINDS = ("cell", "script", "notebook", "container")  # container: the image's own program, or --command
PYTHON_KINDS = ("cell", "script", "notebook")
SWEEP_KINDS = ("cell", "script", "container")  # a notebook takes its parameters with -p; no sweep of them yet
LOCAL, VERTEX, EXECUTOR = ("local",), ("vertex",), ("executor",)
GCP = VERTEX + EXECUTOR
WHERE = {"local": "local runs (--backend local)", "vertex": "Vertex AI (--backend vertex)",
         "executor": "the Workbench Executor (--backend executor)"}


@dataclass(frozen=True)
class Form:
    """How the sidebar's launch forms show an option: a label and a placeholder, which is the named
    server setting's value when it has one (`GET /containerjob/settings`), else the literal text."""

    label: str
    placeholder: str = ""
    setting: Optional[str] = None


@dataclass(frozen=True)
class Option:
    """One run option. `backends=None`: every backend (third-party ones too) accepts it."""

    name: str  # RunOptions field, REST key, TypeScript key
    kind: Kind
    help: str
    flag: str = ""  # default: --NAME with dashes
    metavar: Optional[str] = None
    choices: Optional[tuple[str, ...]] = None
    backends: Optional[tuple[str, ...]] = None
    kinds: tuple[str, ...] = JOB_KINDS
    negated: bool = False  # a flag whose option defaults to true; the flag (--no-...) turns it off
    hint: str = ""  # said after "X is for ...": what to use instead on the backends in `hint_for`
    hint_for: tuple[str, ...] = ()
    form: Optional[Form] = None
    # The JobSpec fields the option sets (a worker pool's as worker_pools.NAME): a job page shows a job's spec
    # fields that its backend takes, and none that only another backend's options set.
    spec: tuple[str, ...] = ()

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def default(self) -> bool | None:
        return {"text": None, "flag": self.negated, "list": None}[self.kind]

    def accepts(self, backend: str) -> bool:
        return self.backends is None or backend in self.backends

    def where(self) -> str:
        return " and ".join(WHERE.get(b, f"--backend {b}") for b in self.backends or ())


OPTIONS: list[Option] = [
    Option("image", "text", "container image the code runs in, as it is (default: python:X.Y-slim matching "
           "this Python)", backends=("local", "vertex"),
           hint_for=EXECUTOR, hint="the Workbench Executor runs notebooks in its runtime's image (use --runtime-template for another "
                "environment)",
           form=Form("Image", setting="default_image"), spec=("worker_pools.image",)),
    Option("command", "text", "the program a container job runs instead of the image's ENTRYPOINT, split into "
           "words as a shell would (never run by a shell); Vertex AI's containerSpec.command",
           metavar="'PROG ARG...'", backends=LOCAL + VERTEX, kinds=("container",),
           form=Form("Command", "the image's ENTRYPOINT"), spec=("worker_pools.command",)),
    Option("gpus", "text", "GPUs for the container: N or all (Docker device requests)", metavar="N|all",
           backends=LOCAL, hint_for=GCP, hint="on Vertex AI name the GPU type: --accelerator NVIDIA_TESLA_T4:1",
           form=Form("GPUs", "0"), spec=("worker_pools.accelerator_count", "worker_pools.accelerator_type")),
    Option("env", "list", "environment variable NAME=VALUE (repeatable)", metavar="K=V", backends=LOCAL + VERTEX,
           hint_for=EXECUTOR, hint="the Workbench Executor sets no environment: use notebook parameters",
           spec=("worker_pools.env",)),
    Option("secret_env", "list", "environment variable NAME=VALUE whose value is a secret: it reaches the job as "
           "--env does, and is shown and kept as *** everywhere else (repeatable)", metavar="K=V",
           backends=LOCAL + VERTEX, hint_for=EXECUTOR, hint="the Workbench Executor sets no environment: use "
           "notebook parameters", spec=("worker_pools.env",)),
    Option("project", "text", "GCP project ID injected into the job as GOOGLE_CLOUD_PROJECT etc. (default: the "
           "resolved one)", form=Form("Project", setting="project"), spec=("project",)),
    Option("output_dir", "text", "base output directory (a folder, or gs://BUCKET/PREFIX): sets AIP_MODEL_DIR, "
           "AIP_CHECKPOINT_DIR, AIP_TENSORBOARD_LOG_DIR", backends=LOCAL + VERTEX,
           hint_for=EXECUTOR, hint="Workbench Executor runs write to the staging bucket; their files come back with the job",
           spec=("base_output_dir", "mounts")),
    Option("timeout", "text", "fail the job after this long: 90, 90s, 10m, 2h, 1d",
           form=Form("Timeout", "none"), spec=("timeout_s",)),
    Option("name", "text", "display name of the job", spec=("display_name", "labels")),
    Option("backend", "text", "where to run: local (default), vertex (cells, scripts) or executor (notebooks)",
           spec=("backend",)),
    Option("labels", "list", "label key=value (repeatable)", flag="--label", metavar="K=V", spec=("labels",)),
    Option("mounts", "list", "Cloud Storage at /gcs/BUCKET inside the job; MODE sync (default) or fuse (repeatable)",
           flag="--mount", metavar="gs://BUCKET[/PREFIX][:MODE]", backends=LOCAL + VERTEX,
           hint_for=EXECUTOR, hint="read gs:// paths with gcsfs in the notebook", spec=("mounts",)),
    Option("credentials", "flag", "mount this machine's application default credentials read-only in the job",
           backends=LOCAL, spec=("mount_credentials",)),
    Option("upload_on_failure", "flag", "sync mounts: upload nothing when the job fails",
           flag="--no-upload-on-failure", negated=True, backends=LOCAL, spec=("upload_on_failure",)),
    Option("include", "list", "ship the files of the script's folder that match PATTERN (gitignore style) although "
           "they look like secrets and stay home (.env*, .aws/, .ssh/, .netrc, *.pem, *credentials*) (repeatable)",
           metavar="PATTERN", kinds=("script",)),
    Option("region", "text", "Vertex AI region (default us-central1)", backends=GCP,
           form=Form("Region", "us-central1", setting="region"), spec=("region",)),
    Option("machine_type", "text", "Vertex AI machine type, e.g. n1-standard-8, a2-highgpu-1g", backends=GCP,
           form=Form("Machine type", "n1-standard-4"),
           spec=("worker_pools.machine_type", "worker_pools.boot_disk_size_gb")),
    Option("accelerator", "text", "Vertex AI accelerator TYPE:COUNT, e.g. NVIDIA_TESLA_T4:1", metavar="TYPE:COUNT",
           backends=GCP, hint_for=LOCAL, hint="local runs take --gpus N", form=Form("Accelerator", "NVIDIA_TESLA_T4:1"),
           spec=("worker_pools.accelerator_type", "worker_pools.accelerator_count")),
    Option("replicas", "text", "replicas of the job: the chief (workerpool0) and N-1 workers (workerpool1), each "
           "told the others' addresses in CLUSTER_SPEC/TF_CONFIG; locally one container each on a network of "
           "their own", metavar="N", backends=LOCAL + VERTEX, spec=("worker_pools.replica_count",)),
    Option("spot", "flag", "Vertex AI Spot VMs (scheduling strategy SPOT)", backends=VERTEX, spec=("spot",)),
    Option("service_account", "text", "the service account the Vertex AI job runs as (the Workbench Executor needs "
           "one)", backends=GCP,
           form=Form("Service account", "NAME@PROJECT.iam.gserviceaccount.com", setting="service_account"),
           spec=("service_account",)),
    Option("staging_bucket", "text", "gs://BUCKET for the payload and results of Vertex AI jobs", backends=GCP,
           form=Form("Staging bucket", "gs://BUCKET", setting="staging_bucket"), spec=("staging_bucket",)),
    Option("requirements", "text", "requirements.txt baked into a content-hashed image (built once)",
           metavar="FILE", backends=LOCAL + VERTEX, hint_for=EXECUTOR, hint="install packages in a runtime template",
           kinds=PYTHON_KINDS, spec=("requirements",)),
    Option("pip", "list", "a requirement such as pandas==2.2, baked in like --requirements (repeatable); "
           "`kernel`: the kernel's versions of what the code imports and its inputs need",
           metavar="PKG", backends=LOCAL + VERTEX, hint_for=EXECUTOR, hint="install packages in a runtime template",
           kinds=PYTHON_KINDS, spec=("requirements",)),
    Option("image_repo", "text", "registry path that built or local-only images are pushed to for Vertex AI",
           backends=VERTEX, spec=("image_repo",)),
    Option("runtime_template", "text", "a NotebookRuntimeTemplate resource name, or `workbench` for a Workbench "
           "runtime (default: a custom environment from --machine-type)", backends=EXECUTOR, kinds=("notebook",),
           form=Form("Runtime template", "none: a custom environment"), spec=("runtime_template",)),
    Option("sweep", "list", "run the job once per value, each job seeing NAME as a variable (a cell) or as {NAME} "
           "in its arguments (a script, a container); values are Python literals, else text; repeated: the "
           "product of all (core/sweep.py)", metavar="NAME=V1,V2,...", kinds=SWEEP_KINDS),
    Option("sweep_file", "text", "the sweep's grid from YAML: a mapping of lists (their product) or a list of "
           "combinations", metavar="FILE", kinds=SWEEP_KINDS),
    Option("parallel", "text", "a sweep's jobs running at once (default: 2; local jobs with --gpus N: one per N "
           "of this machine's GPUs)", metavar="N", kinds=SWEEP_KINDS),
    Option("sweep_into", "text", "the kernel variable a sweep's table of results goes to (default sweep_results)",
           metavar="NAME", kinds=("cell",)),
    Option("retries", "text", "run a job that was killed or exited with a --retry-on code again, up to N times; "
           "each attempt's log and exit code are kept (Vertex AI: the CustomJob is submitted again)", metavar="N",
           backends=LOCAL + VERTEX, form=Form("Retries", "0"), spec=("retries",)),
    Option("retry_on", "text", "the exit codes --retries runs a job again for (default: 137, killed, and the codes "
           "Vertex AI retries itself: 6,134 SIGABRT and 11,139 SIGSEGV)", metavar="CODE,...",
           backends=LOCAL + VERTEX, form=Form("Retry on exit codes", "6,11,134,137,139"), spec=("retry_on",)),
]
