"""The rules: conversation states and transitions, queue order and capacity, hours, safety, eligibility, contacts,
replies and referrals. They may read and write through the store; they know no web framework and no HTTP client.
"""
