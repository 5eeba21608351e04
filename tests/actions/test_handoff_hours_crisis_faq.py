"""Hours (R2, R4), hand-off (R5, R16), crisis (R13) and services (R11, R18): the gateway decides, the bot relays."""

from fakes import AT, KEY, make_tracker, responses

from actions.crisis import ActionCrisis
from actions.faq import ActionServices
from actions.handoff import ActionHandoff
from actions.hours import ActionHours


async def test_in_hours_handoff_sends_gateway_text(gateway, dispatcher, domain):
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human", "人と話したい"), domain)
    assert gateway.calls == [("post_handoff", KEY, "user_request", AT)]
    assert dispatcher.messages[0]["text"] == "相談員につなぎます。"


async def test_all_lines_busy_sends_queue_position_text(gateway, dispatcher, domain):
    gateway.answers["post_handoff"] = {"status": "queued", "open": True, "position": 3, "all_busy": True,
                                       "text": "ただいま相談が混みあっています。3番目にご案内します。"}
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human"), domain)
    assert "3番目" in dispatcher.messages[0]["text"]


async def test_off_hours_handoff_sends_off_hours_text(gateway, dispatcher, domain):
    gateway.answers["post_handoff"] = {"status": "queued", "open": False, "text": "いまは相談時間外です。"}
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human"), domain)
    assert dispatcher.messages[0]["text"] == "いまは相談時間外です。"


async def test_handoff_reason_from_button_and_from_accepted_offer(gateway, dispatcher, domain):
    tracker = make_tracker("request_human", entities=[{"entity": "reason", "value": "profile_done"}])
    await ActionHandoff(gateway).run(dispatcher, tracker, domain)
    offer = [{"event": "action", "name": "utter_offer_handoff"}, {"event": "action", "name": "action_listen"},
             {"event": "user", "timestamp": 1795000000.0}]
    await ActionHandoff(gateway).run(dispatcher, make_tracker("affirm", "はい", events=offer), domain)
    assert [c[2] for c in gateway.calls] == ["profile_done", "topic"]


async def test_handoff_without_text_and_with_gateway_down(gateway, dispatcher, domain):
    gateway.answers["post_handoff"] = {"status": "queued"}
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human"), domain)
    gateway.down = True
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human"), domain)
    assert responses(dispatcher) == ["utter_handoff_default", "utter_gateway_unavailable"]


async def test_hours_open_offers_counsellor(gateway, dispatcher, domain):
    await ActionHours(gateway).run(dispatcher, make_tracker("ask_hours"), domain)
    assert responses(dispatcher) == ["utter_hours_open"]
    assert gateway.calls == [("get_hours", AT)]


async def test_hours_closed_relays_gateway_text(gateway, dispatcher, domain):
    gateway.answers["get_hours"] = {"open": False, "next_open": "2026-11-25T11:00:00+09:00",
                                    "text": "次の相談時間は 11/25(水) 11:00 からです。"}
    await ActionHours(gateway).run(dispatcher, make_tracker("ask_hours"), domain)
    assert dispatcher.messages[0]["text"].startswith("次の相談時間")


async def test_hours_with_gateway_down_shows_regular_schedule(gateway, dispatcher, domain):
    gateway.down = True
    await ActionHours(gateway).run(dispatcher, make_tracker("ask_hours"), domain)
    assert responses(dispatcher) == ["utter_hours_schedule"]


async def test_crisis_intent_is_reported_and_the_bot_says_the_gateways_text_without_110(gateway, dispatcher, domain):
    """The intent alone is a concern (issue 13): the gateway answers with the hand-off, never 110/119."""
    await ActionCrisis(gateway).run(dispatcher, make_tracker("crisis", "お母さんが心の病気で", confidence=0.91), domain)
    assert gateway.calls == [("post_crisis", KEY, 0.91, AT)]
    assert [m["text"] for m in dispatcher.messages] == ["話してくれて、ありがとう。このあとは相談員がお返事しますね。"]
    assert "110" not in dispatcher.messages[0]["text"]


async def test_crisis_intent_stays_silent_when_the_gateway_has_nothing_to_say(gateway, dispatcher, domain):
    gateway.answers["post_crisis"] = {"level": "crisis", "escalation_id": 7, "text": None}
    await ActionCrisis(gateway).run(dispatcher, make_tracker("crisis", "消えたい"), domain)
    assert dispatcher.messages == []


async def test_crisis_with_gateway_down_sends_hotlines_itself(gateway, dispatcher, domain):
    gateway.down = True
    await ActionCrisis(gateway).run(dispatcher, make_tracker("crisis", "消えたい"), domain)
    assert responses(dispatcher) == ["utter_crisis_fallback"]
    text = domain["responses"]["utter_crisis_fallback"][0]["text"]
    for number in ("110", "119", "0120-0-78310", "0120-279-338"):
        assert number in text


async def test_services_for_named_municipality(gateway, dispatcher, domain):
    tracker = make_tracker("ask_services", "白山市の窓口", entities=[{"entity": "municipality", "value": "白山市"}])
    await ActionServices(gateway).run(dispatcher, tracker, domain)
    assert gateway.calls == [("get_services", "白山市", AT)]
    assert responses(dispatcher) == [None]


async def test_services_from_profile_or_prefecture_wide_with_hint(gateway, dispatcher, domain):
    for municipality in ("加賀市", "skipped"):
        tracker = make_tracker("ask_services", slots={"municipality": municipality})
        await ActionServices(gateway).run(dispatcher, tracker, domain)
    assert [c[1] for c in gateway.calls] == ["加賀市", None]
    assert responses(dispatcher)[-1] == "utter_services_hint"


async def test_services_without_text_are_listed_from_items(gateway, dispatcher, domain):
    gateway.answers["get_services"] = {"items": [{"name": "金沢市こども家庭センター", "phone": "076-000-0000"}]}
    tracker = make_tracker("ask_services", entities=[{"entity": "municipality", "value": "金沢市"}])
    await ActionServices(gateway).run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == "金沢市こども家庭センター 076-000-0000"


async def test_typed_place_without_municipality_outside_form_just_invites(gateway, dispatcher, domain):
    await ActionServices(gateway).run(dispatcher, make_tracker("inform_profile", "高校生です"), domain)
    assert responses(dispatcher) == ["utter_how_can_help"] and gateway.calls == []
