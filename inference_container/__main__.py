"""`python -m inference_container`: read the environment, start listening, load the model behind."""

import logging
import sys
from typing import Any

import uvicorn
from pydantic import ValidationError

from inference_container.adapter_pointer import follow_adapter_pointer
from inference_container.app import create_app
from inference_container.settings import Settings


def _settings_or_exit() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]  # fields come from the environment
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        sys.stderr.write(f"inference_container: bad configuration: {problems}\n")
        raise SystemExit(2) from None


def _describe(error: Any) -> str:
    name = ".".join(map(str, error["loc"])).upper() or "settings"
    if error["type"] == "missing":
        return f"{name} is required: set it to the base model's directory"
    return f"{name}: {error['msg']}"


def main() -> None:
    """Run the server until it is stopped."""
    settings = follow_adapter_pointer(_settings_or_exit())
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=False, timeout_graceful_shutdown=5)
    if app.state.load_error:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
