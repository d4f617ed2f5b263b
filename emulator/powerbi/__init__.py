"""Emulated Power BI REST: workspaces, push datasets, rows and refreshes with every documented limit."""
