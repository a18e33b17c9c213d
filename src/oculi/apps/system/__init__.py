"""System: what the glasses say when no app fits, and help."""
