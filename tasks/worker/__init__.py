"""Inside a worker process: per-process resources (Runtime), the base task every task extends,
the bootstep that writes heartbeats, and the censored `inspect conf`."""
