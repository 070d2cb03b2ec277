"""The operators' commands behind `python manage.py`: plain functions that return JSON-safe dicts."""
