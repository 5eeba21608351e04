"""The safety screen: every user text, in every state, gets a risk level before anything else (R13).

`handoff.domain.safety.screen` decides; `lexicon` finds terms, `context` reads who/when/what kind of text around
them, `normalise` folds width, script and decoration so variants meet one entry.
"""

from handoff.domain.safety.lexicon import SafetyConfigError
from handoff.domain.safety.normalise import normalise
from handoff.domain.safety.screen import (
    CONCERN,
    CRISIS,
    EMERGENCY_OTHER,
    LEVELS,
    NO_CRISIS,
    SafetyResult,
    SafetyScreen,
    default_screen,
    screen,
)

__all__ = [
    "CONCERN",
    "CRISIS",
    "EMERGENCY_OTHER",
    "LEVELS",
    "NO_CRISIS",
    "SafetyConfigError",
    "SafetyResult",
    "SafetyScreen",
    "default_screen",
    "normalise",
    "screen",
]
