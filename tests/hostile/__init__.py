"""The hostile YAML corpus (corpus.py): files the importer must refuse cleanly, or accept."""
