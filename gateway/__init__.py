"""`chargewatch ocpp serve`: an OCPP-J websocket endpoint for mirrored charger traffic. It
answers as a central system would (replies) and hands every CALL, as the charger sent it, to
the workers' ingestion in batches (feed). A face like the API: it enqueues and reads, never
runs a model (no worker app is imported)."""
