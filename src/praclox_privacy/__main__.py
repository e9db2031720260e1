"""Run the command line with ``python -m praclox_privacy``."""

from .cli import main

main()
