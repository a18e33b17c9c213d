"""Services the apps use; each owns its store schema."""
