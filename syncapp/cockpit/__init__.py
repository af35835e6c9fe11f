"""The migration cockpit: per service of a task, who publishes and who subscribes on each side,
and the migration phase those facts put it in (issue 16)."""
