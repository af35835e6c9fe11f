"""msesync's Django app: models, admin, API, registries and the sync engine."""
