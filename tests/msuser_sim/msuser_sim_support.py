"""Helpers for the simulator tests (a module, not conftest, so tests can import it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msal
import requests

from syncframe_msuser.simulator import GraphSimulator

DATA = Path(__file__).parent / "data"
GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


def confidential_app(sim: GraphSimulator, http: requests.Session, client_id: str | None = None,
                     credential: Any = None) -> msal.ConfidentialClientApplication:
    """msal's ConfidentialClientApplication pointed at the simulator (default app and secret)."""
    return msal.ConfidentialClientApplication(
        client_id or sim.client_id,
        client_credential=credential if credential is not None else sim.client_secret,
        authority=sim.authority,
        http_client=http,
        instance_discovery=False,
    )


class EdmValidator:
    """Checks JSON against Microsoft's Graph schema extract (names, EDM types, nullability).

    Written for this test suite on purpose: the simulator has its own property table,
    this reads the schema file independently.
    """

    _DATETIME = __import__("re").compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

    def __init__(self, schema: dict[str, Any]):
        self.entity_types = schema["entityTypes"]
        self.complex_types = schema["complexTypes"]

    def properties(self, entity: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        name: str | None = entity
        while name:
            spec = self.entity_types[name]
            for prop in spec["properties"]:
                out.setdefault(prop["name"], prop)
            base = spec["baseType"]
            name = base.split(".", 1)[1] if base else None
        return out

    def errors(self, entity: str, data: dict[str, Any]) -> list[str]:
        return self._check_object(self.properties(entity), data, entity)

    def _check_object(self, props: dict[str, dict[str, Any]], data: dict[str, Any], where: str) -> list[str]:
        problems = []
        for key, value in data.items():
            if key.startswith("@"):
                continue  # instance annotations: @odata.id, @odata.type, @removed
            if key not in props:
                problems.append(f"{where}.{key}: not a property")
                continue
            problems += self._check_value(props[key]["type"], props[key]["nullable"], value, f"{where}.{key}")
        return problems

    def _check_value(self, edm_type: str, nullable: bool, value: Any, where: str) -> list[str]:
        import uuid as _uuid

        if value is None:
            return [] if nullable else [f"{where}: null but not nullable"]
        if edm_type.startswith("Collection("):
            if not isinstance(value, list):
                return [f"{where}: expected a list"]
            inner = edm_type[len("Collection("):-1]
            return [p for i, item in enumerate(value) for p in self._check_value(inner, False, item, f"{where}[{i}]")]
        if edm_type == "Edm.String":
            return [] if isinstance(value, str) else [f"{where}: expected a string"]
        if edm_type == "Edm.Boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
        if edm_type in ("Edm.Int32", "Edm.Int64"):
            return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: expected an integer"]
        if edm_type == "Edm.DateTimeOffset":
            return [] if isinstance(value, str) and self._DATETIME.match(value) else [f"{where}: expected a DateTimeOffset"]
        if edm_type == "Edm.Guid":
            try:
                _uuid.UUID(value)
                return []
            except (ValueError, TypeError, AttributeError):
                return [f"{where}: expected a GUID"]
        name = edm_type.split(".", 1)[1]
        if name in self.complex_types:
            if not isinstance(value, dict):
                return [f"{where}: expected an object ({name})"]
            props = {p["name"]: p for p in self.complex_types[name]["properties"]}
            return self._check_object(props, value, where)
        # an enum or a complex type outside the extract: the service sends a string / object
        return [] if isinstance(value, (str, dict)) else [f"{where}: unexpected {type(value).__name__}"]
