"""Google's own description of the Directory API: the discovery document
``admin.directory_v1.json`` that ``google-api-python-client`` ships (a test-only
dependency), used to check what the simulator answers and what the source asks.

:class:`Discovery` finds the method a request is for, checks its query parameters
(known, typed, in range, in the enum), and validates JSON bodies against the
document's schemas, strictly: a property the schema does not list is an error. Where
the document types a property ``any`` but describes its items elsewhere (a user's
``phones`` are ``UserPhone`` entries...), :data:`ANY_ITEMS` says which schema applies.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

#: properties typed ``any`` whose items the document describes in another schema
ANY_ITEMS = {
    ("User", "phones"): "UserPhone",
    ("User", "organizations"): "UserOrganization",
    ("User", "languages"): "UserLanguage",
    ("User", "emails"): "UserEmail",
}


def document_path() -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    assert spec is not None and spec.submodule_search_locations, "google-api-python-client is a test dependency"
    return Path(list(spec.submodule_search_locations)[0]) / "discovery_cache" / "documents" / "admin.directory_v1.json"


@lru_cache(maxsize=1)
def discovery() -> "Discovery":
    return Discovery(json.loads(document_path().read_text(encoding="utf-8")))


class Discovery:
    """Lookups and checks over one discovery document."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.schemas: dict[str, Any] = document["schemas"]
        self.methods = list(self._methods(document.get("resources", {})))

    def _methods(self, resources: dict[str, Any]) -> Any:
        for resource in resources.values():
            yield from resource.get("methods", {}).values()
            yield from self._methods(resource.get("resources", {}))

    def method(self, http_method: str, path: str) -> dict[str, Any]:
        """The method whose ``flatPath`` matches ``path`` (relative to the service root)."""
        for method in self.methods:
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(method["flatPath"])) + "$"
            if method["httpMethod"] == http_method and re.match(pattern, path.lstrip("/")):
                return method
        raise AssertionError(f"no method of the discovery document serves {http_method} {path}")

    def method_by_id(self, method_id: str) -> dict[str, Any]:
        return next(m for m in self.methods if m["id"] == method_id)

    # -- requests ------------------------------------------------------------------------------

    def check_query(self, method: dict[str, Any], query: dict[str, str]) -> list[str]:
        """Every problem with a request's query parameters."""
        problems = []
        known = {**self.document.get("parameters", {}), **method.get("parameters", {})}
        for name, value in query.items():
            spec = known.get(name)
            if spec is None or spec.get("location") != "query":
                problems.append(f"{method['id']}: unknown query parameter {name}")
                continue
            problems += self._check_parameter(method["id"], name, value, spec)
        for name, spec in method.get("parameters", {}).items():
            if spec.get("required") and spec.get("location") == "query" and name not in query:
                problems.append(f"{method['id']}: required parameter {name} missing")
        return problems

    @staticmethod
    def _check_parameter(method_id: str, name: str, value: str, spec: dict[str, Any]) -> list[str]:
        where = f"{method_id}: {name}={value!r}"
        if spec.get("enum") and value not in spec["enum"]:
            return [f"{where} is not one of {spec['enum']}"]
        if spec.get("type") == "integer":
            if not re.fullmatch(r"-?\d+", value):
                return [f"{where} is not an integer"]
            number = int(value)
            if "minimum" in spec and number < int(spec["minimum"]) or "maximum" in spec and number > int(spec["maximum"]):
                return [f"{where} is outside {spec.get('minimum')}..{spec.get('maximum')}"]
        if spec.get("type") == "boolean" and value not in ("true", "false"):
            return [f"{where} is not a boolean"]
        return []

    # -- bodies ---------------------------------------------------------------------------------

    def validate(self, value: Any, schema: str | dict[str, Any], where: str = "$") -> list[str]:
        """Every way ``value`` departs from ``schema`` (a schema name or a schema)."""
        spec = self.schemas[schema] if isinstance(schema, str) else schema
        if "$ref" in spec:
            return self.validate(value, spec["$ref"], where)
        kind = spec.get("type")
        if kind == "any":
            return []
        if kind == "object":
            if not isinstance(value, dict):
                return [f"{where}: expected an object, got {type(value).__name__}"]
            problems = []
            properties = spec.get("properties", {})
            extra = spec.get("additionalProperties")
            owner = spec.get("id")
            for key, item in value.items():
                if key in properties:
                    refined = ANY_ITEMS.get((owner, key)) if owner else None
                    if refined is not None:
                        if not isinstance(item, list):
                            problems.append(f"{where}.{key}: expected a list of {refined}")
                        else:
                            for index, entry in enumerate(item):
                                problems += self.validate(entry, refined, f"{where}.{key}[{index}]")
                    else:
                        problems += self.validate(item, properties[key], f"{where}.{key}")
                elif extra is not None:
                    problems += self.validate(item, extra, f"{where}.{key}")
                else:
                    problems.append(f"{where}.{key}: not a property of {owner or 'this object'}")
            return problems
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: expected an array"]
            return [p for index, item in enumerate(value) for p in self.validate(item, spec["items"], f"{where}[{index}]")]
        if kind == "string":
            if not isinstance(value, str):
                return [f"{where}: expected a string, got {type(value).__name__}"]
            if spec.get("enum") and value not in spec["enum"]:
                return [f"{where}: {value!r} is not one of {spec['enum']}"]
            return []
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
        if kind == "integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: expected an integer"]
        if kind == "number":
            return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{where}: expected a number"]
        return [f"{where}: unknown schema type {kind!r}"]
