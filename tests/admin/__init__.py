"""Tests of the admin CLI: its command functions and manage.py as operators run it."""
