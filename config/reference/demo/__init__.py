"""Synthetic wards, LSOAs and boundaries of the demo force; regenerate with bench/make_demo_geography.py."""
