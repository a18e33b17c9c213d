"""Apps: what the agent can do for the wearer, one package per app."""
