"""Reference data shipped with cetk: the demo force's synthetic geography (docs/geography.md)."""
