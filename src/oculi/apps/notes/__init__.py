"""Notes: dictate, list, and find again by words or by meaning."""
