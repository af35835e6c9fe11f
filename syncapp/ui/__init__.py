"""The operator console: Service Synchronization, Import Config, Clusters."""
