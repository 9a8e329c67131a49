"""The connector form: one field per key of a template (or of a stored profile).

The profile stays TOML: the form's values are written into the template's document
with tomlkit, so its comments survive, and the result is validated by
:func:`~syncframe.connector.load_profile` like any profile. Every error comes back
beside the field it is about (``ConfigError.messages`` names them per field).
Secret values are never form fields: profiles name the environment variable or file
that holds a secret, and that name is what the form shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import tomlkit
from tomlkit.items import Table

from ..connector import check_name, load_profile
from ..errors import ConfigError

KINDS = (bool, int, float, list, str)


@dataclass
class FormField:
    path: str  # "mode", "source.type", "guard.max_count"
    kind: str  # "bool" | "int" | "float" | "list" | "str"
    value: str
    errors: list[str] = field(default_factory=list)

    @property
    def section(self) -> str:
        return self.path.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.path.rpartition(".")[2]


@dataclass
class ProfileForm:
    """A connector name, the fields, and the errors of the last submission."""

    name: str
    text: str
    fields: list[FormField]
    errors: list[str] = field(default_factory=list)  # about the profile as a whole
    name_errors: list[str] = field(default_factory=list)

    @property
    def sections(self) -> dict[str, list[FormField]]:
        grouped: dict[str, list[FormField]] = {}
        for f in self.fields:
            grouped.setdefault(f.section, []).append(f)
        return grouped

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.name_errors or any(f.errors for f in self.fields))


def form_for(text: str, name: str = "") -> ProfileForm:
    """The form of a profile's TOML text (a template's or a stored connector's)."""
    doc = tomlkit.parse(text)
    return ProfileForm(name, text, list(_fields(doc, "")))


def _fields(table: Mapping[str, Any], prefix: str) -> Any:
    for key, value in table.items():
        path = f"{prefix}{key}"
        raw = value.unwrap() if hasattr(value, "unwrap") else value
        if isinstance(value, (Table, dict)) and not prefix:
            yield from _fields(value, f"{key}.")
        elif isinstance(raw, bool):
            yield FormField(path, "bool", "true" if raw else "false")
        elif isinstance(raw, (int, float, str)):
            yield FormField(path, type(raw).__name__, str(raw))
        elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            yield FormField(path, "list", ", ".join(raw))
        # anything deeper (arrays of tables) is kept as it is, not offered as a field


def submit(form: ProfileForm, values: Mapping[str, str], pm: Any, *, new: bool, store: Any) -> Any:
    """Apply ``values`` to the form's profile and validate it.

    Returns the loaded connector when the profile is valid (the text is in
    ``form.text``); otherwise None, with every error set beside its field.
    """
    doc = tomlkit.parse(form.text)
    for f in form.fields:
        f.value = str(values.get(f.path, "")).strip() if f.kind != "bool" else ("true" if values.get(f.path) in ("true", "on") else "false")
        f.errors = []
        section = doc if not f.section else doc[f.section]
        try:
            typed = _typed(f)
        except ValueError as exc:
            f.errors.append(str(exc))
            continue
        if typed is None:
            section.pop(f.key, None)  # an emptied optional value is left out
        else:
            section[f.key] = typed
    form.text = tomlkit.dumps(doc)
    form.errors, form.name_errors = [], []
    try:
        check_name(form.name)
        if new and store.get_connector(form.name) is not None:
            form.name_errors.append(f"a connector named {form.name!r} exists already")
    except ConfigError as exc:
        form.name_errors.append(str(exc))
    if any(f.errors for f in form.fields):
        return None
    try:
        connector = load_profile(form.text, pm, form.name if not form.name_errors else "connector")
    except ConfigError as exc:
        _place(form, exc)
        return None
    return None if form.has_errors else connector


def _typed(f: FormField) -> Any:
    if f.kind == "bool":
        return f.value == "true"
    if f.value == "":
        return None
    if f.kind in ("int", "float"):
        # a template's 10 may stand for a percentage: 10.5 is a number too (the schema decides)
        for number in (int, float):
            try:
                return number(f.value)
            except ValueError:
                pass
        raise ValueError("must be a number")
    if f.kind == "list":
        return [v.strip() for v in f.value.split(",") if v.strip()]
    return f.value


def _place(form: ProfileForm, exc: ConfigError) -> None:
    """Put each of ``exc``'s messages beside its field (the rest above the form)."""
    by_path = {f.path: f for f in form.fields}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                key = str(key).strip("[]")
                walk(f"{prefix}.{key}" if prefix else key, sub)
        elif isinstance(value, (list, tuple)):
            for sub in value:
                walk(prefix, sub)
        elif prefix in by_path:
            by_path[prefix].errors.append(str(value))
        else:
            form.errors.append(f"{prefix}: {value}" if prefix else str(value))

    if not exc.messages:
        form.errors.append(str(exc))
    walk("", exc.messages)
