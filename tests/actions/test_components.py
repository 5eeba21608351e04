"""The Japanese tokenizer and the intent guard (bot/components)."""

import os

import yaml
from fakes import ROOT
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



def _place(text, intent, place):
    start = text.index(place)
    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.34},
                         "intent_ranking": [{"name": intent, "confidence": 0.34}],
                         "entities": [{"entity": "municipality", "value": place, "start": start,
                                       "end": start + len(place)}]})


def test_a_bare_place_name_is_that_place_not_a_no():
    guard = IntentGuard(IntentGuard.get_default_config())
    bare, ending = _place("ななお", "deny", "ななお"), _place("こまつやけど", "chitchat", "こまつ")
    sentence = _place("ななおに行きたくない", "deny", "ななお")
    worry = _place("金沢の家がしんどい", "share_worry", "金沢")
    guard.process([bare, ending, sentence, worry])
    assert bare.get("intent")["name"] == "inform_profile" and ending.get("intent")["name"] == "inform_profile"
    assert sentence.get("intent")["name"] == "deny" and worry.get("intent")["name"] == "share_worry"


def _labels() -> dict[str, str]:
    with open(os.path.join(ROOT, "config.yml"), encoding="utf-8") as fh:
        pipeline = yaml.safe_load(fh)["pipeline"]
    return next(c for c in pipeline if c["name"].endswith("IntentGuard"))["typed_labels"]


def test_a_typed_button_label_means_its_button_whatever_the_classifier_read():
    guard = IntentGuard({**IntentGuard.get_default_config(), "typed_labels": _labels()})
    refusal = Message(data={"text": "同意しない！", "intent": {"name": "ask_consent_meaning", "confidence": 0.56},
                            "intent_ranking": [{"name": "ask_consent_meaning", "confidence": 0.56}]})
    more = Message(data={"text": "ほかの質問にも答える", "intent": {"name": "stop_profile", "confidence": 0.64},
                         "intent_ranking": []})
    question = Message(data={"text": "同意しないとどうなる？",
                             "intent": {"name": "ask_consent_meaning", "confidence": 0.9}, "intent_ranking": []})
    guard.process([refusal, more, question])
    assert refusal.get("intent") == {"name": "consent", "confidence": 1.0}
    assert refusal.get("intent_ranking")[1]["name"] == "ask_consent_meaning"
    assert more.get("intent")["name"] == "continue_profile"
    assert question.get("intent")["name"] == "ask_consent_meaning"


def test_every_typed_label_is_a_button_of_the_domain_with_that_intent(domain):
    buttons: dict[str, set[str]] = {}
    for variations in domain["responses"].values():
        for variation in variations:
            for button in variation.get("buttons") or []:
                buttons.setdefault(button["title"], set()).add(button["payload"].lstrip("/").split("{")[0])
    labels = _labels()
    assert labels
    for label, intent in labels.items():
        assert buttons.get(label) == {intent}, f"{label!r}: buttons say {buttons.get(label)}, config says {intent}"
