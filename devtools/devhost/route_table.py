"""Match request paths against Functions route templates like `orders/{id}` or `files/{*path}`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from devtools.devhost.app_loader import HttpFunction

PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?=]*)?(\?)?(?:=[^}]*)?\}")


def template_regex(template: str) -> re.Pattern[str]:
    """Compile a route template (params, `:constraint`, optional `?`, catch-all `*`) into a regex."""
    parts: list[str] = []
    for segment in template.strip("/").split("/"):
        pieces: list[str] = []
        last = 0
        optional = False
        for match in PARAM.finditer(segment):
            pieces.append(re.escape(segment[last:match.start()]))
            catch_all, name, maybe = match.groups()
            pieces.append(f"(?P<{name}>{'.*' if catch_all else '[^/]+'})")
            optional = optional or bool(maybe) or bool(catch_all)
            last = match.end()
        pieces.append(re.escape(segment[last:]))
        body = "".join(pieces)
        parts.append(f"(?:/{body})?" if optional else f"/{body}")
    return re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE)


def _precedence(function: HttpFunction) -> tuple[int, int, int]:
    """Literal routes before parameterised ones, catch-alls last (as ASP.NET routing orders them)."""
    route = function.route
    return (route.count("{*"), route.count("{"), -route.count("/"))


@dataclass(frozen=True)
class CompiledRoute:
    """An HTTP function with its compiled route."""

    function: HttpFunction
    pattern: re.Pattern[str]


class RouteTable:
    """Finds the HTTP function for a method and a path below the route prefix."""

    def __init__(self, functions: list[HttpFunction]) -> None:
        ordered = sorted(functions, key=_precedence)
        self._routes = [CompiledRoute(f, template_regex(f.route)) for f in ordered]

    def match(self, method: str, path: str) -> tuple[HttpFunction, dict[str, str]] | bool | None:
        """(function, route params) on a match; False if only the method differs; None if no route."""
        path_only = False
        for route in self._routes:
            found = route.pattern.match("/" + path.strip("/"))
            if found is None:
                continue
            methods = route.function.methods
            if methods is not None and method.upper() not in methods:
                path_only = True
                continue
            params = {k: v for k, v in found.groupdict().items() if v is not None}
            return route.function, params
        return False if path_only else None
