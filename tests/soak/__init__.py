"""The scale-out soak test (issue 12): `python -m tests.soak.scaleout --help`. Not collected by pytest."""
