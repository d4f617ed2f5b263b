"""Emulated Entra ID sign-in: discovery, client credentials (secret or certificate), device code, refresh."""
