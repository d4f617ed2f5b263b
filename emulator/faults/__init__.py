"""Fault injection: throttling, 503s, dropped connections after commit, latency and resource-unit budgets."""
