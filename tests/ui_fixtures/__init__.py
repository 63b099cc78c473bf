"""Fakes and helpers for the web chat tests."""
