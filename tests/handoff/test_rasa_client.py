"""The gateway's Rasa client reads the intent the channel reports (X-YCC-NLU) beside the answer, and tolerates a
bot that sends none or sends garbage: the answer still reaches the user, only the trainers' label is missing."""

from __future__ import annotations

import asyncio

import pytest

from handoff.pipeline.rasa import BotReply, RasaClient, Understood
from tests.support.stub_rasa import StubRasa


def _send(stub: StubRasa) -> BotReply:
    async def go() -> BotReply:
        client = RasaClient(stub.url, timeout=5.0, token="t" * 32)
        try:
            return await client.send("c-1", "なんじまで？", {})
        finally:
            await client.close()

    return asyncio.run(go())


def test_the_intent_the_channel_reports_comes_back_with_the_answer(rasa: StubRasa) -> None:
    rasa.nlu_header = '{"intent": "ask_hours", "confidence": 0.9312}'
    reply = _send(rasa)
    assert [m["text"] for m in reply.messages] == ["bot:なんじまで？"]
    assert reply.understood == Understood("ask_hours", 0.9312)


@pytest.mark.parametrize("header", [None, "not json", '{"intent": ""}', '["ask_hours"]', '{"intent": 3}',
                                    '{"intent": "x", "confidence": "high"}'])
def test_no_or_a_malformed_label_still_answers_and_labels_nothing(rasa: StubRasa, header: str | None) -> None:
    rasa.nlu_header = header
    reply = _send(rasa)
    assert [m["text"] for m in reply.messages] == ["bot:なんじまで？"]
    assert reply.understood is None
