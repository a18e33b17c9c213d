"""Devices: where sensor events come from (scenario replay today; real glasses later)."""
