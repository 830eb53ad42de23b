"""The rules of releases, pure: alias states and their moves, a charger's arm, the guardrails'
verdict, what a served prediction counts, population stability. No I/O."""
