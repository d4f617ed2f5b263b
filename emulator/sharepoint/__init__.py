"""Emulated SharePoint REST (`/_api`) for list items, as office365-rest-python-client calls it."""
