"""Penguins, preprocess -> train, as two CustomJob files with their own images: train runs only when
preprocess succeeded. Builds the images on this machine (docker SDK), puts the CSV in the bucket (the
emulator when STORAGE_EMULATOR_HOST is set), then runs each file with `containerjob run --config`, unchanged and
with no --mount: the bucket its args name is at /gcs here as on Vertex AI.

    python examples/penguins/run.py                          # here, in local containers
    python examples/penguins/run.py --backend vertex --project P --image-repo REGION-docker.pkg.dev/P/REPO

PENGUINS_CSV=other.csv uploads another file as the raw data.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
BUCKET = "containerjob-penguins"


def build_images() -> None:
    client = docker.from_env()
    for step in ("preprocess", "train"):
        client.images.build(path=str(HERE / step), tag=f"containerjob-example/penguins-{step}:1", rm=True)


def upload_data() -> None:
    import os

    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        client = storage.Client(project="local", credentials=AnonymousCredentials())
    else:
        client = storage.Client()
    bucket = client.lookup_bucket(BUCKET) or client.create_bucket(BUCKET)
    bucket.blob("raw/penguins.csv").upload_from_filename(os.environ.get("PENGUINS_CSV") or str(HERE / "penguins.csv"))


def run(step: str, flags: list[str]) -> int:
    command = [sys.executable, "-m", "containerjob.cli", "run", "--config", str(HERE / step / "config.yaml"),
               "--name", f"penguins-{step}", *flags]  # the buckets its args name are mounted at /gcs, as on Vertex
    return subprocess.call(command)


def main(flags: list[str]) -> int:
    build_images()
    upload_data()
    for step in ("preprocess", "train"):
        code = run(step, flags)
        if code:
            print(f"penguins: {step} exited {code}; stopping here", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
