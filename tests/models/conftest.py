"""Model tests use the session's trained artifacts (tests/conftest.py)."""
