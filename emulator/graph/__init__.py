"""Emulated Microsoft Graph for SharePoint lists: sites, lists, columns, items, delta and $batch."""
