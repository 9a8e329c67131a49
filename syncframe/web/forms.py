"""The connector form: one field per key of a template (or of a stored profile).

The profile stays TOML: the form's values are written into the template's document
with tomlkit, so its comments survive, and the result is validated by
:func:`~syncframe.connector.load_profile` like any profile. Every error comes back
beside the field it is about (``ConfigError.messages`` names them per field).
Secret values are never form fields: profiles name the environment variable or file
that holds a secret, and that name is what the form shows.

Besides the keys a profile already has, the form offers every setting the host's
schema and the source's and target's schemas accept (an empty one is left out, so
its default holds): a template's commented-out ``interval`` is one field away, and
a plugin's new setting appears without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import re

import tomlkit
from marshmallow import Schema, fields, validate
from tomlkit.items import Table

from .. import plugins as registry
from ..connector import check_name, load_profile
from ..errors import ConfigError
from ..schemas import Duration, GuardSchema, ProfileSchema

KINDS = (bool, int, float, list, str)
#: a key that would hold a secret's value, not its name: never a form field (never shown)
SECRET_VALUE = re.compile(r"(^|_)(password|secret|token|api_key|private_key|passphrase|client_secret)$", re.I)


@dataclass
class FormField:
    path: str  # "mode", "source.type", "guard.max_count"
    kind: str  # "bool" | "int" | "float" | "list" | "str"
    value: str
    errors: list[str] = field(default_factory=list)
    #: the values a schema allows (a select), and the default an empty field keeps
    choices: list[str] = field(default_factory=list)
    default: str = ""

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


def form_for(text: str, name: str = "", pm: Any = None) -> ProfileForm:
    """The form of a profile's TOML text (a template's or a stored connector's); with
    the plugins ``pm``, every other setting the schemas accept too."""
    doc = tomlkit.parse(text)
    present = [f for f in _fields(doc, "") if not SECRET_VALUE.search(f.key)]
    offered = list(_schema_fields(doc, pm)) if pm is not None else []
    by_path = {f.path: f for f in offered}
    for f in present:  # a present key keeps its value and gains the schema's choices
        known = by_path.pop(f.path, None)
        if known is not None:
            f.choices, f.default = known.choices, known.default
    return ProfileForm(name, text, present + list(by_path.values()))


def _schema_fields(doc: Mapping[str, Any], pm: Any) -> Any:
    """A field per setting of the host's, the source's and the target's schemas."""
    yield from _from_schema(ProfileSchema(), "", skip={"guard"})
    yield from _from_schema(GuardSchema(), "guard.")
    for section, known in (("source", registry.sources(pm)), ("target", registry.targets(pm))):
        kind = str((doc.get(section) or {}).get("type") or "")
        if kind in known:
            yield from _from_schema(known[kind].schema(), f"{section}.")


def _from_schema(schema: Schema, prefix: str, skip: frozenset[str] | set[str] = frozenset()) -> Any:
    for key, spec in schema.fields.items():
        if key in skip or SECRET_VALUE.search(key) or isinstance(spec, (fields.Nested, fields.Dict)):
            continue
        if isinstance(spec, fields.Boolean):
            kind = "bool"
        elif isinstance(spec, fields.Integer):
            kind = "int"
        elif isinstance(spec, fields.Float):
            kind = "float"
        elif isinstance(spec, fields.List):
            kind = "list"
        else:
            kind = "str"
        validators = spec.validators if hasattr(spec, "validators") else []
        choices = next(([str(c) for c in v.choices] for v in validators if isinstance(v, validate.OneOf)), [])
        default = spec.load_default
        shown = "" if callable(default) or default is None or default == [] else (str(default).lower() if isinstance(default, bool) else str(default))
        if isinstance(spec, Duration) and not shown:
            shown = "none (e.g. 1h, 30m)"  # the interval: empty means manual runs only
        yield FormField(f"{prefix}{key}", kind, "", choices=choices, default=shown)


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
        f.value = str(values.get(f.path, "")).strip()
        if f.kind == "bool" and f.value == "on":  # a checkbox
            f.value = "true"
        f.errors = []
        try:
            typed = _typed(f)
        except ValueError as exc:
            f.errors.append(str(exc))
            continue
        if f.section and f.section not in doc:
            if typed is None:
                continue
            doc.add(f.section, tomlkit.table())
        section = doc if not f.section else doc[f.section]
        if typed is None:
            section.pop(f.key, None)  # an emptied optional value is left out: its default holds
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
    if f.value == "":
        return None
    if f.kind == "bool":
        if f.value not in ("true", "false"):
            raise ValueError("must be true or false")
        return f.value == "true"
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


def catalog(pm: Any) -> dict[str, registry.Template]:
    """The templates to start a connector from: every plugin's, and for a registered
    source no template starts from, one per target with just the types (the form
    then offers every setting of both schemas)."""
    found = dict(registry.templates(pm))
    covered = set()
    for template in found.values():
        try:
            covered.add(str(tomlkit.parse(template.text).get("source", {}).get("type")))
        except tomlkit.exceptions.ParseError:
            continue
    targets = registry.targets(pm)
    for source in registry.sources(pm).values():
        if source.name in covered:
            continue
        for target in targets.values():
            name = f"{source.name.lower()}-{target.name.lower()}"
            text = f'title = ""\nmode = "sync"\n\n[source]\ntype = "{source.name}"\n\n[target]\ntype = "{target.name}"\n'
            found.setdefault(name, registry.Template(name, text, f"{source.description or source.name} into {target.description or target.name}", source.plugin))
    return found
