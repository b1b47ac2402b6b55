"""Linli: the bot core (events, pipeline, router, adapters, domain services)."""
