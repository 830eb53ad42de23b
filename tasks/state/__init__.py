"""The task queue's own state in the cache Redis, each over the cache's executor (so it fails
open like every cache call): beat's job claims and run locks, poison-message delivery counts,
fleet progress, the task ids a client sent, worker heartbeats and the dead-letter store."""
