"""The demo force: a synthetic Staffordshire-style force, its PowerApp lists and its legacy Forms exports."""
