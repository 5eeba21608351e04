"""The fake LINE platform for tests and `make run`: the Messaging API as LINE behaves (signatures, reply tokens, retry
keys, 409/429/5xx) and the chat page a developer types into.
"""
