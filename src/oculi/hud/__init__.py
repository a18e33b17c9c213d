"""HUD: cards for the glasses display."""
