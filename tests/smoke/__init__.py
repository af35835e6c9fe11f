"""Smoke tests: each client library we depend on works against its test-bed server."""
