"""Operators' command line (`chargewatch --help`): it only enqueues tasks and reads results."""
