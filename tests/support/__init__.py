"""Test harness: real servers, real worker processes, data factories."""
