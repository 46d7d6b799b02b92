"""`python -m medcom` runs the command line."""

from medcom.cli import main

main()
