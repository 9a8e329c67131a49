"""Built-in behaviour, registered as plugins after the external ones."""
