"""Reads, by area: what pages and commands show. A selector never writes and never
imports a service (services may call selectors)."""
