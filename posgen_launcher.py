"""The ``posgen`` console script: starts :func:`posgen_lib.cli.main` so that Ctrl-C is quiet at any moment.

Loading ``posgen_lib`` (torch and its companions) takes seconds, and a Ctrl-C
during those seconds would print a long traceback of import machinery. This
module is outside the package, so it runs before any of that is imported and
turns such a Ctrl-C into one line and exit status 130, as the commands do.
"""
import sys


def main() -> int:
    try:
        from posgen_lib.cli import main as posgen_main
    except KeyboardInterrupt:
        print("posgen: interrupted while starting", file=sys.stderr)
        return 130
    return posgen_main()
