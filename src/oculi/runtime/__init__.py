"""The runtime: sessions, the event bus, configuration and device profiles."""
