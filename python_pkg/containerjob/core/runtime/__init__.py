"""The in-container runner. Its modules are stdlib-only and copied, not imported, into every job;
`pickle_frames` is also imported here, since the kernel writes inputs and reads results in its format."""
from pathlib import Path

RUNNER_FILE = Path(__file__).with_name("runner.py")
KEEP_FILES = Path(__file__).with_name("keep_files.py")  # run in an Executor notebook's kernel (core/notebook.py)
STOP_REASON = ".stop_reason"  # in a job's output/: why the host stopped it, for the log's last line (runner.py)
