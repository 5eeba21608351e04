"""Custom Rasa components for the Japanese bot (loaded with the project root on PYTHONPATH)."""
