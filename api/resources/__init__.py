"""HTTP resources: one module per kind of thing the API exposes."""
