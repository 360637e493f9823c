"""The frozen app's entry point (PyInstaller runs this file as ``__main__``).

Source checkouts run ``python -m app`` / the ``stockscanner`` console script; a bundle has no
Python to run, so this script stands in for the interpreter's ``-m`` for the one child
process the app starts itself:

* ``stockscanner -m server.embedded --data-dir DIR`` — ``sync/embedded.py`` spawns
  ``[sys.executable, "-m", "server.embedded", ...]``; in a bundle ``sys.executable`` is this
  executable, so the same command line reaches here and runs the embedded service;
* multiprocessing children (research pools, dask's local cluster) re-run the executable
  with their own arguments: ``freeze_support`` takes those over before anything else runs;
* everything else is the ``stockscanner`` command (``app.cli.main``).
"""
from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()
    # Only this module may be run this way: the bundle is not a general interpreter.
    if sys.argv[1:3] == ["-m", "server.embedded"]:
        from server.embedded import main as embedded_main

        return embedded_main(sys.argv[3:])
    from app.cli import main as cli_main

    return int(cli_main())


if __name__ == "__main__":
    sys.exit(main())
