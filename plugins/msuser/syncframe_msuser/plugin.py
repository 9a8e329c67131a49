"""Entry point of the MSUSER source plugin (placeholder until the plugin lands)."""

from syncframe import hookimpl  # noqa: F401
