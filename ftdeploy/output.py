"""Where the command writes: results to stdout (text, or JSON with --json), notes, progress and errors to stderr.

Everything written passes through `redact`, which removes the function key, the webhook secret and any `code=`
query value (the Durable check-status URLs carry the host's key that way), so no secret reaches a terminal or a log.
"""

import json
import re
import sys
from typing import Any

from rich.console import Console, RenderableType

CODE_PARAMETER = re.compile(r"([?&]code=)[^&\s\"']+")
HIDDEN = "***"
PIPED_WIDTH = 1000
"""Output width when stdout is not a terminal: a table row stays whole on one line (for grep, a log)."""


class Output:
    """The command's two streams, with secrets redacted from everything printed."""

    def __init__(self, as_json: bool, secrets: tuple[str | None, ...] = ()) -> None:
        self.as_json = as_json
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        # No file given: rich writes to sys.stdout / sys.stderr as they are when printing (pytest's capture too).
        self.out = Console(soft_wrap=True, highlight=False)
        self.err = Console(stderr=True, soft_wrap=True, highlight=False)

    def hide(self, secret: str | None) -> None:
        """Redact `secret` too from now on (a secret read after start-up, such as the webhook secret)."""
        if secret:
            self._secrets = sorted({*self._secrets, secret}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` without any secret this command knows, nor any `code=` query value."""
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        return CODE_PARAMETER.sub(rf"\g<1>{HIDDEN}", text)

    def redacted(self, value: Any) -> Any:
        """A JSON value with every string in it redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self.redacted(item) for item in value]
        if isinstance(value, dict):
            return {self.redact(str(key)): self.redacted(item) for key, item in value.items()}
        return value

    def result(self, text: str) -> None:
        """A line of the human-readable result (stdout); nothing in --json mode, where `data` says it all."""
        if not self.as_json:
            self.out.print(self.redact(text), markup=False)

    def table(self, renderable: RenderableType) -> None:
        """A rich table (cells already redacted by the caller) on stdout: one line per row when piped."""
        if not self.as_json:
            if not self.out.is_terminal:
                self.out.width = PIPED_WIDTH  # rich caps a print's width at the console's
            self.out.print(renderable)

    def data(self, value: Any) -> None:
        """The machine-readable result (stdout, --json mode only): one JSON document."""
        if self.as_json:
            sys.stdout.write(json.dumps(self.redacted(value), indent=2, default=str) + "\n")
            sys.stdout.flush()

    def note(self, text: str) -> None:
        """A line for the person running the command (stderr, in both modes)."""
        self.err.print(self.redact(text), markup=False)

    def error(self, text: str) -> None:
        """The reason a command ends unsuccessfully (stderr)."""
        self.err.print(f"ftdeploy: error: {self.redact(text)}", markup=False, style="bold red")
