"""syncframe plugin package msuser."""
