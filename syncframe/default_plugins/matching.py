"""Default matching rules (placeholder; the engine issue fills it)."""
