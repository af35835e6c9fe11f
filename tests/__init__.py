"""msesync test suite."""
