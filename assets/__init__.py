"""The Dagster layer: thin assets over the pure `pipeline` package."""
