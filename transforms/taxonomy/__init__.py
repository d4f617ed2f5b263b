"""Packaged data: the default, versioned theme taxonomy (themes-v1.yaml)."""
