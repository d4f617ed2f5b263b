"""SharePoint sites, lists and items in memory: the store Graph and SharePoint REST both serve."""
