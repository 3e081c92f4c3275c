"""`python -m devtools.devhost`: load the function app, resume unfinished orchestrations, serve HTTP."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TextIO

from devtools.devhost.app_loader import load_app
from devtools.devhost.config import build_config, load_local_settings, parse_args
from devtools.devhost.engine import Engine
from devtools.devhost.http_server import build_app
from devtools.devhost.serving import serve
from devtools.devhost.store import Store

log = logging.getLogger("devhost")


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def _lock_state_dir(state_dir: Path) -> TextIO:
    """Hold an exclusive lock on the state dir for the life of the process (released even on SIGKILL)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    lock = (state_dir / "host.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"Another devhost is already using the state dir {state_dir}; stop it first.") from None
    return lock


def main(argv: list[str] | None = None) -> int:
    """Run the host until SIGTERM/SIGINT; exit code 0 on a clean stop, 1 when the stop deadline cut work short."""
    _configure_logging()
    config = build_config(parse_args(argv))
    state_lock = _lock_state_dir(config.state_dir)
    load_local_settings(config.app_dir)
    index = load_app(config.app_dir)
    log.info("Loaded %d HTTP, %d orchestrator and %d activity functions from %s", len(index.http),
             len(index.orchestrators), len(index.activities), config.app_dir)
    for name in index.unsupported:
        log.warning("Function %s has a trigger devhost does not run", name)
    store = Store(config.state_dir)
    engine = Engine(store, index, config.replace_live_instances)

    def stop_engine() -> None:
        if not engine.stop(config.grace_seconds):
            log.warning("Activities still running after %.0fs; they will run again on the next start",
                        config.grace_seconds)

    app = build_app(config, engine, stop_engine)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        # uvicorn handles the signal, then re-raises it to the previous handler: make that a no-op.
        signal.signal(stop_signal, lambda *_: None)
    # requests get the grace period, then activities get it; past three, the process exits whatever still runs
    serve(app, config.port, request_grace=config.grace_seconds, deadline=3 * config.grace_seconds)
    log.info("Host stopped")
    state_lock.close()
    return 0


def _exit_code() -> int:
    try:
        return main()
    except SystemExit as stop:
        if isinstance(stop.code, str):
            log.error(stop.code)
        return stop.code if isinstance(stop.code, int) else 1
    except Exception:
        log.exception("devhost failed to start")
        return 1


if __name__ == "__main__":
    code = _exit_code()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
