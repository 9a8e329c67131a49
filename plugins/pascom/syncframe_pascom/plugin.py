"""Entry point of the pascom target plugin (placeholder until the plugin lands)."""

from syncframe import hookimpl  # noqa: F401
