"""The task modules the worker imports at start (tasks.config.TASK_MODULES): predictions, the
fleet path, invalidation, beat's periodic jobs, health and the echo probe. Clients never import
them: they send these tasks by name."""
