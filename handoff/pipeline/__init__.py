"""One message in reading order: the inbox takes it in (inbox.py), the router screens and routes it (router.py), the
bot answers it (bot_step.py, rasa.py), a flag escalates it (escalation.py, alerts.py), the outbox delivers (outbox.py).
"""
