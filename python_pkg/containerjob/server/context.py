"""What the handlers share for the server's lifetime, and its start and stop."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.settings import Settings
from ..scheduler import Scheduler
from ..service import JobService
from .errors import public_paths
from .watcher import Watcher


@dataclass
class ServerContext:
    service: JobService
    watcher: Watcher
    executor: ThreadPoolExecutor
    root_dir: Path
    log: logging.Logger
    public: Callable[[str], str]  # a message without the server's absolute paths (errors.public_paths)
    schedule_interval_s: float = 30.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _scheduler: threading.Thread | None = None

    @classmethod
    def create(cls, *, settings: Settings, root_dir: str, log: logging.Logger, workers: int, local_interval_s: float,
               remote_interval_s: float, sweep_s: float, schedule_interval_s: float) -> "ServerContext":
        """`settings` resolved by the extension (config_traits); the store is at its home, as the kernel's and
        the CLI's are when they resolve the same home."""
        service = JobService(settings)
        watcher = Watcher(service, log, local_interval_s=local_interval_s, remote_interval_s=remote_interval_s,
                          sweep_s=sweep_s)
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="containerjob-api")
        root = Path(root_dir).resolve()
        public = public_paths(root, {"$CONTAINERJOB_HOME": service.settings.home_path, "~": Path.home()})
        return cls(service, watcher, executor, root, log, public, schedule_interval_s)

    def start(self) -> None:
        """Reattach to unfinished jobs and fire due schedules, each in its own thread."""
        self.watcher.start()
        self._scheduler = threading.Thread(target=self._run_scheduler, args=(Scheduler(self.service, refresh=False),),
                                           name="containerjob-scheduler", daemon=True)
        self._scheduler.start()
        self.log.info("containerjob: firing due schedules every %.0f s", self.schedule_interval_s)

    def _run_scheduler(self, scheduler: Scheduler) -> None:
        try:
            scheduler.run(self._stop, self.schedule_interval_s)
        except Exception:  # noqa: BLE001 - the server goes on without schedules; say why
            self.log.exception("containerjob: the schedule thread stopped")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop following and firing; jobs keep running and the next server reattaches to them."""
        self._stop.set()
        self.watcher.stop(timeout_s)
        if self._scheduler is not None:
            self._scheduler.join(timeout_s)
        self.executor.shutdown(wait=False, cancel_futures=True)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def alive(self) -> list[str]:
        """Names of this extension's live background threads (for tests and diagnostics)."""
        scheduler = [self._scheduler.name] if self._scheduler is not None and self._scheduler.is_alive() else []
        return sorted(self.watcher.alive() + scheduler)
