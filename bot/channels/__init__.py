"""Rasa input channels of our own (loaded with the project root on PYTHONPATH, registered in credentials.yml)."""
