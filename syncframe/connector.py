"""Connector profiles: TOML in, a validated :class:`Connector` out.

A profile is plain TOML, parsed with :mod:`tomllib` as it is::

    title = "Directory users"
    mode = "sync"
    [source]
    type = "<source>"      # a registered source; the rest is validated by its plugin
    ...
    [target]
    type = "<target>"      # a registered target; the rest is validated by its plugin
    ...

Every error of the host's part and of both plugin sections is reported at once,
before anything is contacted.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pluggy
from marshmallow import ValidationError

from . import plugins as plugin_registry
from .contracts import ConnectorContext, Source, Target, TokenStore
from .errors import ConfigError
from .removal import EXAMPLES, RemovalPolicy, parse_removal
from .schemas import ProfileSchema

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: the first profile format named the plugins beside the tables: ``source = "MSUSER"``
_OLD_FORM_RE = re.compile(r"^\s*(source|target)\s*=", re.MULTILINE)
NEW_FORM_HINT = """profiles name their plugins inside the sections now:

    [source]
    type = "<source>"          # was: source = "<source>"
    ...
    [target]
    type = "<target>"          # was: target = "<target>"
    ...                        # target options (devices and the like) live here too

Move the two plugin names into their sections as `type`, and options of the target
from the top into [target]; `syncframe connector template NAME` prints a complete
profile in this form."""


def parse_toml(text: str) -> dict[str, Any]:
    """Parse a profile's TOML.

    :raises ConfigError: when the text is not TOML, or is a profile in the first
        format (``source = "..."`` beside a ``[source]`` table), with the new form.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if _OLD_FORM_RE.search(text):
            raise ConfigError(f"the profile uses the old format: {NEW_FORM_HINT}") from exc
        raise ConfigError(f"the profile is not valid TOML: {exc}") from exc
    if isinstance(data.get("source"), str) or isinstance(data.get("target"), str):
        raise ConfigError(f"the profile uses the old format: {NEW_FORM_HINT}")
    return data


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ConfigError(f"connector name {name!r} must be lower-case letters, digits, '-' or '_' (at most 64)")
    return name


@dataclass
class Connector:
    """A validated connector: its profile and the plugins that serve it."""

    name: str
    profile: dict[str, Any]
    source_config: dict[str, Any]
    target_config: dict[str, Any]
    source_registration: plugin_registry.Registration
    target_registration: plugin_registry.Registration
    text: str = ""

    @property
    def mode(self) -> str:
        return self.profile["mode"]

    @property
    def source_type(self) -> str:
        """The source plugin's registered name (``[source] type``)."""
        return self.source_registration.name

    @property
    def target_type(self) -> str:
        """The target plugin's registered name (``[target] type``)."""
        return self.target_registration.name

    @property
    def upsert_disabled(self) -> str:
        """Mode upsert: ``keep`` a linked user the source disabled, or ``disable`` its account."""
        return str(self.profile.get("upsert_disabled", "keep"))

    @property
    def removal(self) -> RemovalPolicy:
        """What a removal does to a leaver's account (``removal``; see :mod:`syncframe.removal`)."""
        return parse_removal(self.profile.get("removal", "delete"))

    @property
    def interval(self) -> int | None:
        """Seconds between automated runs, or None for manual runs only."""
        return self.profile.get("interval")

    @property
    def concurrency(self) -> int:
        """The most target writes in flight at once."""
        return self.profile["concurrency"]

    @property
    def adaptive_concurrency(self) -> bool:
        """Whether the writes in flight adapt to the target's answers (up to :attr:`concurrency`)."""
        return bool(self.profile.get("adaptive_concurrency", True))

    @property
    def guard(self) -> dict[str, Any]:
        return self.profile["guard"]

    @property
    def protected_logins(self) -> list[str]:
        return list(self.profile.get("protected_logins") or [])

    def context(self, token_store: TokenStore | None = None, state_dir: Path | None = None, echo: Callable[[str], None] = print) -> ConnectorContext:
        return ConnectorContext(name=self.name, profile=self.profile, token_store=token_store, state_dir=state_dir, echo=echo)

    def open_source(self, context: ConnectorContext) -> Source:
        return self.source_registration.factory(self.source_config, context)

    def open_target(self, context: ConnectorContext) -> Target:
        return self.target_registration.factory(self.target_config, context)


def load_profile(text: str, pm: pluggy.PluginManager, name: str) -> Connector:
    """Validate a profile's text with the host schema and both plugin schemas.

    :raises ConfigError: listing every error at once.
    """
    check_name(name)
    data = parse_toml(text)
    _refuse_target_removal(data, name)
    errors: dict[str, Any] = {}
    source_section = _plugin_section(data, "source", errors)
    target_section = _plugin_section(data, "target", errors)
    try:
        profile = ProfileSchema().load(data)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages})
        # keep going with what did validate, so the plugin sections are checked too
        profile = {**data, **exc.valid_data} if isinstance(exc.valid_data, dict) else dict(data)

    sources = plugin_registry.sources(pm)
    targets = plugin_registry.targets(pm)
    source_type, target_type = source_section.pop("type", None), target_section.pop("type", None)
    source_reg = sources.get(str(source_type)) if source_type else None
    target_reg = targets.get(str(target_type)) if target_type else None
    if source_type and source_reg is None:
        errors.setdefault("[source]", {})["type"] = [f"no plugin provides the source {source_type!r} (known: {', '.join(sorted(sources)) or 'none'})"]
    if target_type and target_reg is None:
        errors.setdefault("[target]", {})["type"] = [f"no plugin provides the target {target_type!r} (known: {', '.join(sorted(targets)) or 'none'})"]
    _point_to_plugin_sections(errors, data, source_reg, target_reg)

    source_config = _load_section(source_reg, source_section, "[source]", errors)
    target_config = _load_section(target_reg, target_section, "[target]", errors)
    _check_target_can_disable(profile, target_reg, errors)
    if errors:
        raise ConfigError(f"connector {name!r}: the profile has errors", errors)
    profile = dict(profile)
    if not profile.get("title"):
        profile["title"] = name
    profile["source"] = {"type": source_type, **source_config}
    profile["target"] = {"type": target_type, **target_config}
    assert source_reg is not None and target_reg is not None
    return Connector(name, profile, source_config, target_config, source_reg, target_reg, text)


def _refuse_target_removal(data: Mapping[str, Any], name: str) -> None:
    """``removal`` was a target option before every target got the leaver lifecycle:
    an old profile is refused with one error naming the new place, not guessed at."""
    section = data.get("target")
    if isinstance(section, dict) and "removal" in section and "removal" not in data:
        value = json.dumps(section["removal"] if isinstance(section["removal"], str) else "delete")
        raise ConfigError(
            f"connector {name!r}: `removal` moved from [target] to the top of the profile, beside `mode`: "
            f"write removal = {value} above [source] and delete it from [target] ({EXAMPLES})"
        )


def _check_target_can_disable(profile: Mapping[str, Any], target_reg: plugin_registry.Registration | None, errors: dict[str, Any]) -> None:
    """A removal that disables needs a target that can disable (``Target.can_disable``)."""
    if target_reg is None or "removal" in errors:
        return
    policy = parse_removal(profile.get("removal", "delete"))
    if policy.disable and not getattr(target_reg.factory, "can_disable", False):
        errors["removal"] = [f"the target {target_reg.name!r} cannot disable accounts, so removal = {str(policy)!r} cannot be kept; use removal = \"delete\""]


def _point_to_plugin_sections(errors: dict[str, Any], data: Mapping[str, Any], *regs: plugin_registry.Registration | None) -> None:
    """An unknown top-level key that a plugin's section knows (the first profile format
    kept some target options at the top): say where it belongs instead of "Unknown field"."""
    for key in list(errors):
        if key not in data or key.startswith("["):
            continue
        for role, reg in zip(("source", "target"), regs):
            if reg is not None and key in getattr(reg.schema, "_declared_fields", {}):
                errors[key] = [f"{key} is a [{role}] option: move it into [{role}]"]


def _plugin_section(data: dict[str, Any], role: str, errors: dict[str, Any]) -> dict[str, Any]:
    """Take the ``[source]`` / ``[target]`` table out of ``data``; it must name its ``type``."""
    section = data.pop(role, None)
    label = f"[{role}]"
    if section is None:
        errors[label] = {"type": [f"missing: add a [{role}] table with type = \"<the {role} plugin's name>\""]}
        return {}
    if not isinstance(section, dict):
        errors[label] = {"_": [f"must be a table ([{role}]), not a value"]}
        return {}
    section = dict(section)
    if not isinstance(section.get("type"), str) or not section.get("type"):
        errors[label] = {"type": [f"missing: name the {role} plugin (type = \"NAME\"; 'syncframe plugins' lists them)"]}
        section.pop("type", None)
    return section


def _load_section(reg: plugin_registry.Registration | None, section: Mapping[str, Any], label: str, errors: dict[str, Any]) -> dict[str, Any]:
    if reg is None:
        return dict(section)
    try:
        return dict(reg.schema().load(section))
    except ValidationError as exc:
        previous = errors.get(label)
        errors[label] = {**previous, **exc.messages} if isinstance(previous, dict) and isinstance(exc.messages, dict) else exc.messages
        return {}


def load_profile_file(path: str | Path, pm: pluggy.PluginManager, name: str | None = None) -> Connector:
    """Read and validate a profile file; the connector is named after the file unless ``name``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the profile {str(path)!r}: {exc.strerror}") from exc
    default = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-") or "connector"
    return load_profile(text, pm, name or default)
