"""`python -m ftdeploy`: the same as the `ftdeploy` command."""

from ftdeploy.cli import main

raise SystemExit(main())
