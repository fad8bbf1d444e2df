"""`python -m alerts.cli`."""

from alerts.cli import main

main()
