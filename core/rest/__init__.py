"""MLflow's REST protocol for runyard: entity <-> JSON conversion shared by the server and HTTP clients."""
