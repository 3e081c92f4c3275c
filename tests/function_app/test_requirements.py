"""requirements.txt pins exactly the distributions that the code shipped to Azure imports."""

import ast
import importlib.util
import re
import sysconfig
from functools import cache
from importlib import metadata
from pathlib import Path

from service_settings import FUNCTION_APP_ROOT

SHIPPED = ("function_app.py", "http_api", "orchestrations", "activities", "payloads", "share_layout", "targets",
           "service_settings.py")
SITE_PACKAGES = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> set[str]:
    lines = (FUNCTION_APP_ROOT / "requirements.txt").read_text().splitlines()
    return {normalized(re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0])
            for line in lines if line.strip() and not line.lstrip().startswith("#")}


def imported_modules() -> set[str]:
    files = [path for entry in SHIPPED for path in
             ([FUNCTION_APP_ROOT / entry] if entry.endswith(".py") else (FUNCTION_APP_ROOT / entry).rglob("*.py"))]
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


@cache
def files_of(name: str) -> frozenset[Path]:
    distribution = metadata.distribution(name)
    return frozenset(Path(str(distribution.locate_file(file))).resolve() for file in distribution.files or [])


def third_party_origins() -> dict[str, Path]:
    """Each imported module installed in site-packages, with the file it loads from."""
    origins: dict[str, Path] = {}
    for name in imported_modules():
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin).resolve() if spec and spec.origin else None
        if origin and any(origin.is_relative_to(site) for site in SITE_PACKAGES):
            origins[name] = origin
    return origins


def test_every_pinned_package_is_imported_by_the_shipped_code() -> None:
    origins = third_party_origins().values()
    unused = {name for name in pinned() if not any(origin in files_of(name) for origin in origins)}
    assert not unused, f"pinned in requirements.txt but imported by no shipped module: {sorted(unused)}"


def test_every_third_party_import_is_pinned() -> None:
    unpinned = {module for module, origin in third_party_origins().items()
                if not any(origin in files_of(name) for name in pinned())}
    assert not unpinned, f"imported by shipped code but no requirements.txt pin provides it: {sorted(unpinned)}"
