"""The in-container runner. `runner.py` is stdlib-only and is copied, not imported, into every job."""
from pathlib import Path

RUNNER_FILE = Path(__file__).with_name("runner.py")
