"""The bundled sample data set: a small demo force as CSVs plus expected_problems.csv (the manifest).

Regenerate with `python -m emulator.demo --write-sample powerbi_dataset/sample`.
"""
