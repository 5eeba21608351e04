"""The processes and their plumbing: what a process opens (resources.py), the worker loop and its child process,
wake-ups between processes, the per-key runner that keeps each user in order, live fan-out to consoles, GC settings.
"""
