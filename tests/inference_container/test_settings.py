"""Start-up configuration errors are clear and stop the process before it listens."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inference_container.settings import Settings
from service_settings import FUNCTION_APP_ROOT

pytestmark = pytest.mark.slow


def _run(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"MODEL_PATH", "ADAPTER_PATH", "API_KEY"}}
    return subprocess.run([sys.executable, "-m", "inference_container"], cwd=FUNCTION_APP_ROOT, capture_output=True,
                          text=True, timeout=120, env={**env, **env_overrides})


def test_missing_model_path_is_a_clear_error(tmp_path: Path) -> None:
    result = _run({"API_KEY": "secret-not-to-print"})
    assert result.returncode == 2
    assert "MODEL_PATH" in result.stderr
    assert "secret-not-to-print" not in result.stderr + result.stdout


def test_model_path_that_is_not_a_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = _run({"MODEL_PATH": str(tmp_path)})
    assert result.returncode == 2
    assert "MODEL_PATH" in result.stderr and "config.json" in result.stderr


def test_torch_threads_leave_a_core_for_the_http_side_without_a_gpu() -> None:
    plain = Settings.model_construct(torch_threads=None)
    assert plain.compute_threads(torch_default=2, cores=2, gpu=False) == 1
    assert plain.compute_threads(torch_default=8, cores=16, gpu=False) == 8  # torch's own default is lower
    assert plain.compute_threads(torch_default=1, cores=1, gpu=False) == 1
    assert plain.compute_threads(torch_default=8, cores=8, gpu=True) == 8  # the GPU does the matmuls
    assert Settings.model_construct(torch_threads=3).compute_threads(torch_default=2, cores=2, gpu=False) == 3
