"""``python -m syncframe.cli``."""

from . import main

main()
