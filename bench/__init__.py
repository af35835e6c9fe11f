"""Benchmarks: each prints a table comparing msesync with a raw-client baseline of the same run."""
