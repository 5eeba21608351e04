"""Schemathesis over the console API's own OpenAPI document, as a logged-in supervisor (issue 18.6).

Every operation gets generated requests, valid and invalid (wrong types, NUL, lone surrogates, emoji, long
strings): the API must never answer 5xx, and what it refuses must be a 4xx with the documented error body.
The document is built in-process (console.openapi.document) so the cases are known at collection time; a first test
checks the gateway serves exactly that document. (schemathesis.pytest.from_fixture fails on pytest 9:
`Function` has no `_nodeid`.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance, unsupported_method

from console.openapi import document
from tests.console.conftest import Gateway, new_line_user
from tests.support.fuzz import fuzz

schema = schemathesis.openapi.from_dict(document())
# A schema-valid body is refused (400) when what it names does not hold yet: a referral when referral_made, a
# flagged message or case, a reason while checklist steps are missing. JSON Schema cannot say so; the 400 is right.
# A delivery is refused when its segment selects nobody now or its time has passed (issue 17.1).
STATEFUL = {"/api/conversations/{id}/resolve", "/api/conversations/{id}/safety-feedback", "/api/escalations/{id}/close",
            "/api/broadcasts"}
EXAMPLES = 25  # per operation and per profile scale: 20 operations, the whole file well under a minute


@pytest.fixture(scope="module")
def session(gateway_sqlite: Gateway) -> Iterator[requests.Session]:
    """A supervisor's console session (cookie + X-CSRF-Token), with a few conversations to find."""
    console = gateway_sqlite.login(gateway_sqlite.add_user("supervisor"))
    for _ in range(3):
        gateway_sqlite.user_says(new_line_user(), "相談したいです")
    http = requests.Session()
    http.cookies.update(dict(console.client.cookies))
    http.headers["X-CSRF-Token"] = console.csrf
    yield http
    http.close()


def test_the_fuzzed_document_is_the_one_the_gateway_serves(gateway_sqlite: Gateway) -> None:
    assert requests.get(f"{gateway_sqlite.url}/api/openapi.json", timeout=5).json() == document()


@schema.parametrize()
@fuzz(EXAMPLES)
def test_no_operation_answers_5xx_and_every_refusal_is_a_documented_4xx(
    case: schemathesis.Case, gateway_sqlite: Gateway, session: requests.Session
) -> None:
    ids = case.path_parameters or {}
    routed = all(isinstance(v, int) or str(v).lstrip("-").isdigit() for v in ids.values())
    # A session cookie is always sent (ignored_auth would need unauthenticated cases); TRACE/undeclared methods
    # are Sanic's router, as is a path id that is not an integer: those are checked for 5xx only (see below).
    checks = None if routed else [not_a_server_error]
    excluded = [ignored_auth, unsupported_method]
    if case.operation.path in STATEFUL:
        excluded.append(positive_data_acceptance)
    case.call_and_validate(base_url=gateway_sqlite.url, session=session, timeout=15, checks=checks,
                           excluded_checks=excluded)


@pytest.mark.parametrize("step", [{}, ["contact_confirmed"]])
def test_a_checklist_step_that_is_not_a_string_is_a_clear_400(
    gateway_sqlite: Gateway, session: requests.Session, step: object
) -> None:
    response = session.post(f"{gateway_sqlite.url}/api/escalations/1/steps", json={"step": step}, timeout=5)
    assert response.status_code in (400, 404), response.text


def test_a_path_id_that_is_not_an_integer_gets_the_documented_error_body(
    gateway_sqlite: Gateway, session: requests.Session
) -> None:
    response = session.get(f"{gateway_sqlite.url}/api/conversations/null,null", timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json") and "error" in response.json()
