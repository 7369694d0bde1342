"""`python -m orchestra`: the CLI run by a given interpreter (how code servers start in a location's Python)."""

from orchestra._cli import main

main()
