"""The Japanese tokenizer and the intent guard (bot/components)."""

from rasa.shared.nlu.training_data.message import Message

from bot.components.intent_guard import IntentGuard
from bot.components.japanese_tokenizer import JapaneseTokenizer


def test_sudachi_tokens_with_normalized_lemma_and_no_whitespace():
    tokenizer = JapaneseTokenizer(JapaneseTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message(data={"text": "しにたい  ヤングケアラー"}), "text")
    assert [t.text for t in tokens] == ["しに", "たい", "ヤングケアラー"]
    assert tokens[0].lemma == "死ぬ"
    assert tokens[2].start == 6 and tokens[2].data["pos"] == "名詞"


def guard_message(intent, ranking, metadata=None):
    return Message(data={"text": "x", "intent": {"name": intent, "confidence": 0.4},
                         "intent_ranking": ranking, "metadata": metadata or {}})


def test_low_confidence_crisis_is_not_lost_to_fallback():
    guard = IntentGuard(IntentGuard.get_default_config())
    msg = guard_message("nlu_fallback", [{"name": "nlu_fallback", "confidence": 0.45},
                                         {"name": "crisis", "confidence": 0.4},
                                         {"name": "chitchat", "confidence": 0.3}])
    guard.process([msg])
    assert msg.get("intent")["name"] == "crisis"


def test_fallback_kept_when_crisis_is_not_the_best_guess():
    guard = IntentGuard(IntentGuard.get_default_config())
    msg = guard_message("nlu_fallback", [{"name": "nlu_fallback", "confidence": 0.45},
                                         {"name": "chitchat", "confidence": 0.4},
                                         {"name": "crisis", "confidence": 0.3}])
    guard.process([msg])
    assert msg.get("intent")["name"] == "nlu_fallback"


def test_return_event_turns_light_intents_into_return_visit_but_keeps_requests():
    guard = IntentGuard(IntentGuard.get_default_config())
    light = guard_message("greet", [{"name": "greet", "confidence": 0.9}], {"event": "return"})
    human = guard_message("request_human", [{"name": "request_human", "confidence": 0.9}], {"event": "return"})
    plain = guard_message("greet", [{"name": "greet", "confidence": 0.9}], {"event": "message"})
    guard.process([light, human, plain])
    assert light.get("intent")["name"] == "return_visit"
    assert human.get("intent")["name"] == "request_human"
    assert plain.get("intent")["name"] == "greet"
