"""What a release is on disk: its artifact and card, the registry under MODEL_DIR, and the same
releases in MLflow's Model Registry. No Redis."""
