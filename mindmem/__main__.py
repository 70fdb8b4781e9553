"""`python -m mindmem` runs the `mm` command line."""

from mindmem.cli import main

main()
