"""Custom actions of the Ishikawa young-carer bot (rasa-sdk 3.6).

One module per feature (greet, consent, profile, hours, handoff, crisis, faq); all gateway I/O goes through
``gateway_client`` so tests can swap in a fake. Actions never import the gateway package (``handoff/``).
"""
