"""syncframe plugin package pascom."""
