"""``python -m nmfedu …`` runs the command line of :mod:`nmfedu.cli`.

Notebooks: 04 (``python -m nmfedu separate``).
"""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
