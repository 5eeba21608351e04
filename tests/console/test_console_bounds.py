"""Input the console must refuse clearly instead of answering 500 or storing without end (issue 12 items 9, 10)."""

from __future__ import annotations

import httpx

from console.bounds import MAX_ROW_ID
from handoff.line.messages import MAX_TEXT
from tests.console.conftest import Gateway

RECORD = {"topics": ["care_burden"], "care_recipients": ["mother"], "referral_made": True,
          "referral": "金沢市こども家庭センター", "follow_up": False, "summary": "母の介護について。"}


def test_ids_past_any_rows_in_the_path_or_query_are_a_clear_404_or_400(gateway: Gateway) -> None:
    sup = gateway.login(gateway.add_user("supervisor"))
    for huge in (MAX_ROW_ID + 1, 2**63, 10**30):
        for path in (f"/api/conversations/{huge}", f"/api/conversations/{huge}/messages",
                     f"/api/escalations/{huge}", f"/console/records/{huge}", f"/console/chat/{huge}"):
            response = sup.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"] == "not_found", path
        listed = sup.get(f"/api/conversations?offset={huge}")
        assert listed.status_code == 400 and listed.json()["fields"] == {"offset": "range"}
        assert sup.get(f"/console/records?page={huge}").status_code == 400
        assert sup.post(f"/api/conversations/{huge}/assign").status_code == 404
        assign = sup.post("/api/conversations/1/assign", {"user_id": huge})
        assert assign.status_code == 400 and "user_id" in assign.json()["fields"], assign.text
    assert sup.get(f"/api/conversations/{MAX_ROW_ID}").status_code == 404  # the largest id is an ordinary miss


def test_static_names_that_are_no_file_are_a_clear_404(gateway: Gateway) -> None:
    for path in ("/console/static/", "/console/static/a%00b.js", "/console/static/common.js%00.png",
                 "/console/static/nothing.js", "/console/static/%2e%2e/__init__.py"):
        response = httpx.get(gateway.url + path, timeout=5)
        assert response.status_code == 404, path
        assert response.json() == {"error": "not_found", "message": "no such file"}, path
    assert httpx.get(gateway.url + "/console/static/common.js", timeout=5).status_code == 200


def test_record_fields_are_bounded_and_the_error_names_the_field_and_its_limit(
    gateway: Gateway, line_user: str
) -> None:
    sup = gateway.login(gateway.add_user("supervisor"))
    gateway.user_says(line_user, "相談があります")
    item = gateway.queued(sup, line_user)
    resolve = f"/api/conversations/{item['id']}/resolve"
    too_many = sup.post(resolve, {**RECORD, "topics": ["school"] * 100_000})
    assert too_many.status_code == 400 and "6" in too_many.json()["fields"]["topics"]
    long_referral = sup.post(resolve, {**RECORD, "referral": "あ" * 100_000})
    assert long_referral.status_code == 400 and str(MAX_TEXT) in long_referral.json()["fields"]["referral"]
    objects = sup.post(resolve, {**RECORD, "care_recipients": [{"x": 1}]})
    assert objects.status_code == 400 and "care_recipients" in objects.json()["fields"]
    assert gateway.rows("SELECT count(*) AS n FROM records WHERE conversation_id = :c", c=item["id"])[0]["n"] == 0
    done = sup.post(resolve, {**RECORD, "referral": "あ" * MAX_TEXT})
    assert done.status_code == 201
