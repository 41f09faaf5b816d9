"""``python -m orchestrator.cli`` runs the ``pitchside`` command."""

from orchestrator.cli.app import main

main()
