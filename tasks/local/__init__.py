"""Processes on this machine for tests, benchmarks and the demo: worker and beat launchers, and
a whole local stack on free ports."""
