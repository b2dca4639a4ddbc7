"""``python -m pipeline.cli``: the command line without the installed entry point."""

from . import main

main()
