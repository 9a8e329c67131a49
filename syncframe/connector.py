"""Connector profiles: TOML in, a validated :class:`Connector` out.

The profile contract puts the plugin sections in tables named like the keys that
name the plugins::

    source = "MSUSER"
    target = "pascom"
    [source]
    tenant = "..."

Strict TOML forbids a key and a table of the same name, so the loader reads the
``[source]`` / ``[target]`` tables (and their sub-tables) under internal names
first. Every error of the host's part and of both plugin sections is reported at
once, before anything is contacted.
"""

from __future__ import annotations

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
from .schemas import ProfileSchema

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SECTION_RE = re.compile(r"^(\s*)\[\s*(source|target)\s*(\.[^\]]*)?\]", re.MULTILINE)
_SECTION_KEYS = {"source": "__source_section__", "target": "__target_section__"}


def parse_toml(text: str) -> dict[str, Any]:
    """Parse a profile's TOML, reading ``[source]``/``[target]`` beside the keys of the same name."""
    renamed = _SECTION_RE.sub(lambda m: f"{m.group(1)}[{_SECTION_KEYS[m.group(2)]}{m.group(3) or ''}]", text)
    try:
        return tomllib.loads(renamed)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the profile is not valid TOML: {exc}") from exc


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
    def interval(self) -> int | None:
        """Seconds between automated runs, or None for manual runs only."""
        return self.profile.get("interval")

    @property
    def concurrency(self) -> int:
        return self.profile["concurrency"]

    @property
    def guard(self) -> dict[str, Any]:
        return self.profile["guard"]

    @property
    def protected_logins(self) -> list[str]:
        return list(self.profile.get("protected_logins") or [])

    @property
    def scope(self) -> dict[str, Any]:
        """Who is in scope; the keys live in the ``[source]`` section."""
        return {
            "include_guests": bool(self.source_config.get("include_guests", False)),
            "include_disabled": bool(self.source_config.get("include_disabled", False)),
            "groups": list(self.source_config.get("groups") or []),
        }

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
    source_section = data.pop(_SECTION_KEYS["source"], {})
    target_section = data.pop(_SECTION_KEYS["target"], {})
    errors: dict[str, Any] = {}
    try:
        profile = ProfileSchema().load(data)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages})
        # keep going with what did validate, so the plugin sections are checked too
        profile = {**data, **exc.valid_data} if isinstance(exc.valid_data, dict) else dict(data)

    sources = plugin_registry.sources(pm)
    targets = plugin_registry.targets(pm)
    source_reg = sources.get(str(profile.get("source"))) if profile.get("source") else None
    target_reg = targets.get(str(profile.get("target"))) if profile.get("target") else None
    if profile.get("source") and source_reg is None and "source" not in errors:
        errors["source"] = [f"no plugin provides the source {profile['source']!r} (known: {', '.join(sorted(sources)) or 'none'})"]
    if profile.get("target") and target_reg is None and "target" not in errors:
        errors["target"] = [f"no plugin provides the target {profile['target']!r} (known: {', '.join(sorted(targets)) or 'none'})"]

    source_config = _load_section(source_reg, source_section, "[source]", errors)
    target_config = _load_section(target_reg, target_section, "[target]", errors)
    if errors:
        raise ConfigError(f"connector {name!r}: the profile has errors", errors)
    profile = dict(profile)
    if not profile.get("title"):
        profile["title"] = name
    profile["source_settings"] = source_config
    profile["target_settings"] = target_config
    assert source_reg is not None and target_reg is not None
    return Connector(name, profile, source_config, target_config, source_reg, target_reg, text)


def _load_section(reg: plugin_registry.Registration | None, section: Mapping[str, Any], label: str, errors: dict[str, Any]) -> dict[str, Any]:
    if reg is None:
        return dict(section)
    try:
        return dict(reg.schema().load(section))
    except ValidationError as exc:
        errors[label] = exc.messages
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
