"""The gateway's HTTP edges besides LINE's webhook: the internal API the action server calls, health, error logging."""
