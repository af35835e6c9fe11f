"""Local test bed: real registry servers on loopback for the integration tests (see CONTRACT.md)."""
