"""Serving the ASGI app with uvicorn so that SIGTERM always stops the host, whatever a request is doing.

uvicorn's graceful shutdown waits for every request to finish, and asyncio then joins the threads that run
synchronous function code: a request stuck in a thread (or one blocking the event loop) would keep the host up
forever. So requests get `request_grace` seconds after the signal (then uvicorn cancels them), and a watchdog
armed by the first signal ends the process `deadline` seconds after it whatever is still running. Work that is
cut short is durable: activities run again on the next start; a cut request was never answered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from types import FrameType

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger("devhost")
FORCED_EXIT_CODE = 1


class BoundedShutdownServer(uvicorn.Server):
    """A uvicorn server whose stop signal also arms a watchdog that exits the process at the deadline."""

    def __init__(self, config: uvicorn.Config, deadline: float) -> None:
        super().__init__(config)
        self.deadline = deadline
        self._watchdog: threading.Thread | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Begin the graceful stop; the first signal also arms the watchdog."""
        super().handle_exit(sig, frame)
        if self._watchdog is None:
            log.info("Stopping (signal %d); exiting within %.0f s whatever is still running", sig, self.deadline)
            self._watchdog = threading.Thread(target=self._exit_at_deadline, name="stop-watchdog", daemon=True)
            self._watchdog.start()

    def _exit_at_deadline(self) -> None:
        threading.Event().wait(self.deadline)
        log.warning("Still running %.0f s after the stop signal (a request or activity that does not end); "
                    "exiting without it", self.deadline)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(FORCED_EXIT_CODE)


def serve(app: Starlette, port: int, request_grace: float, deadline: float) -> None:
    """Serve `app` on loopback until SIGTERM/SIGINT; return once stopped (SystemExit if it could not start)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning",
                            timeout_graceful_shutdown=max(1, round(request_grace)))
    server = BoundedShutdownServer(config, deadline)
    server.run()
    if not server.started:
        raise SystemExit(1)
