"""``python -m syncframe``."""

from .cli import main

main()
