"""The agent: from what the wearer says (and sees) to an app action."""
