"""Exit codes and the one exception that ends a command with a message (never a stack trace)."""

from enum import IntEnum


class Exit(IntEnum):
    """What the process exit status means; the README's *Command line (ftdeploy)* section lists them."""

    OK = 0
    FAILED = 1  # the orchestration failed or was terminated
    USAGE = 2  # bad arguments, or the service refused the request (HTTP 4xx)
    UNREACHABLE = 3  # no answer from the service (connection refused, timed out, lost while waiting)
    SERVER_ERROR = 4  # the service answered 5xx
    INTERRUPTED = 130  # Ctrl-C: the client stopped waiting; the orchestration goes on


class CliError(Exception):
    """Ends the command: `message` goes to stderr, `code` becomes the exit status."""

    def __init__(self, message: str, code: Exit = Exit.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
