"""Task tests use the `stack` fixture of tests/conftest.py."""
