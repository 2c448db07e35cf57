"""The `alignnet` command line: one small module per command group, thin over the API."""
