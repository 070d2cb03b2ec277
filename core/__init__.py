"""Pieces shared by the API, the workers and the admin CLI: settings, the message contract,
token signing and time rendering. Nothing here imports Falcon or Celery."""
