"""Model releases: which release answers for which charger (champion, canary, shadow), the moves
between them with their audit trail, and what each release did in the field (requests, shadow
agreement, outcomes, drift). The alias state lives in the cache Redis, so every worker and
client on every host routes a charger the same way; the artifacts live in releases.disk.registry."""
