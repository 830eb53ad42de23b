"""What operators watch: the health report read from kept state, the Prometheus collector and
the JSON log format. Readers only: nothing here imports the worker app or a task module."""
