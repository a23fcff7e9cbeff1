"""runyard's tracking server: MLflow's REST API and artifact proxy on a runyard store (runyard[server])."""
