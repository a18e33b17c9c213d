"""Vision: what the wearer looks at, read from camera frames."""
