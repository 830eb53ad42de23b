"""The small HTTP face: health, enqueue predictions, read results. Only enqueues and reads."""
