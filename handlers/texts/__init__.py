"""Every user-facing Chinese text, one module per feature, so they are reviewed in one place."""
