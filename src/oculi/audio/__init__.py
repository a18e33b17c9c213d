"""Audio: what the wearer hears, synthesised on the device without a network."""
