"""Releases live, in every process: the alias state and audit trail in Redis, outcomes, the
comparison, who answers for a charger (routing), the releases loaded (serving), shadow work off
the request path (recorder), and the moves an operator makes (admin)."""
