"""Integrations with other systems (Ray Data). Each module imports its optional dependency on use."""
