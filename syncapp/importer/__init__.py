"""Import of the MSE Sync YAML (`clusters`, `tasks`): parse, diff, apply all-or-nothing."""

from syncapp.importer.apply import apply_config, diff_config
from syncapp.importer.parse import ConfigError, parse_config

__all__ = ("ConfigError", "apply_config", "diff_config", "parse_config")
