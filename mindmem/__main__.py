"""`python -m mindmem` runs the `mm` command line."""

import sys


def _run() -> None:
    if sys.argv[1:2] == ["hook-impl"]:
        # The git hook shims come in here on every commit: skip loading the whole command line.
        from mindmem.governance.hooks import main as hook_main

        sys.exit(hook_main(sys.argv[2:]))
    from mindmem.cli import main

    main()


_run()
