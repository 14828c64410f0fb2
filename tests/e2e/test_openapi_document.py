"""The OpenAPI document tells a client everything an answer can be.

Bearer auth on every route that needs a token, every error status as an RFC 9457
problem document, the real content types of the answers that are not JSON, patterns
that every regex dialect reads alike, and interactive docs that load nothing from a CDN.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.api.openapi import READS_BY_POST
from tests.e2e.conftest import Api

PROBLEM = "application/problem+json"


@pytest.fixture
def spec(api: Api) -> dict[str, Any]:
    answer = api.client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items()
            for method, op in ops.items()]


def test_the_document_declares_an_http_bearer_security_scheme(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["bearerAuth"].items()


def test_every_v1_route_requires_the_bearer_token_and_healthz_is_open(
    spec: dict[str, Any],
) -> None:
    for method, path, op in operations(spec):
        if path.startswith("/v1/"):
            assert op.get("security") == [{"bearerAuth": []}], (method, path)
            assert "401" in op["responses"] and "403" in op["responses"], (method, path)
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"], (method, path)
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_readyz_takes_a_token_optionally(spec: dict[str, Any]) -> None:
    assert spec["paths"]["/readyz"]["get"]["security"] == [{}, {"bearerAuth": []}]


def test_every_error_answer_is_a_problem_document(spec: dict[str, Any]) -> None:
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path, op in operations(spec):
        for status, answer in op["responses"].items():
            if status.startswith("4") or (status.startswith("5") and path != "/readyz"):
                assert list(answer["content"]) == [PROBLEM], (method, path, status)
                schema = answer["content"][PROBLEM]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path)


def test_commands_document_bad_input_conflicts_stale_versions_and_large_bodies(
    spec: dict[str, Any],
) -> None:
    commands = [(m, p, op) for m, p, op in operations(spec)
                if m == "post" and p not in READS_BY_POST]
    assert len(commands) >= 20
    for method, path, op in commands:
        assert {"400", "401", "403", "404", "409", "412", "413", "422", "429"} <= set(
            op["responses"]), (method, path)
        success = next(a for s, a in op["responses"].items() if s.startswith("2"))
        assert "ETag" in success["headers"], (method, path)


def test_a_post_that_only_reads_documents_its_body_errors_and_no_version(
    spec: dict[str, Any],
) -> None:
    reveal = spec["paths"]["/v1/personal-data/reveal"]["post"]
    assert {"400", "401", "403", "413", "422", "429"} <= set(reveal["responses"])
    assert not {"404", "409", "412"} & set(reveal["responses"])
    assert "ETag" not in reveal["responses"]["200"].get("headers", {})


def test_queries_that_wait_for_a_position_document_409_and_503_with_retry_after(
    spec: dict[str, Any],
) -> None:
    waiting = [(m, p, op) for m, p, op in operations(spec)
               if any(q["name"] == "min_position" for q in op.get("parameters", []))]
    assert len(waiting) >= 15
    for method, path, op in waiting:
        assert {"409", "503"} <= set(op["responses"]), (method, path)
        assert op["responses"]["503"]["headers"]["Retry-After"]["required"] is True


def test_lists_document_the_bad_cursor_400(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        if any(q["name"] == "cursor" for q in op.get("parameters", [])):
            assert "400" in op["responses"], (method, path)


def test_every_route_that_reads_a_token_documents_429_with_retry_after(
    spec: dict[str, Any],
) -> None:
    secured = [(m, p, op) for m, p, op in operations(spec) if op.get("security")]
    assert len(secured) >= 38
    for method, path, op in secured:
        if op.get("security"):
            answer = op["responses"]["429"]
            assert answer["headers"]["Retry-After"]["required"] is True, (method, path)


def test_answers_that_are_not_json_declare_their_real_content_types(
    spec: dict[str, Any],
) -> None:
    assert list(spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == [
        "text/plain"]
    export = spec["paths"]["/v1/audit/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"application/x-ndjson", "text/csv"}


def test_if_match_is_documented_as_a_version_number(spec: dict[str, Any]) -> None:
    header = next(p for p in spec["paths"]["/v1/goals"]["post"]["parameters"]
                  if p["name"] == "if-match")
    pattern = re.compile(header["schema"]["pattern"])
    assert all(pattern.match(v) for v in ("3", '"3"', 'W/"3"', ""))  # empty: no condition
    assert not any(pattern.match(v) for v in ("three", "3.0", "9" * 19))


def test_patterns_spell_out_white_space_as_the_server_matches_it(
    api: Api, spec: dict[str, Any],
) -> None:
    """pydantic-core matches ``\\s`` as Unicode White_Space (U+0085 included, U+001C
    not); Python's ``re`` and ECMA-262 disagree on both. The document says which."""
    member = spec["components"]["schemas"]["MemberJoin"]["properties"]["email"]
    assert "\\s" not in member["pattern"]
    email = re.compile(member["pattern"])
    team = api.team()
    for address in ("ada\x85x@example.com", "ada\x1cx@example.com"):
        documented = bool(email.match(address))
        answer = api.post(f"/v1/teams/{team}/members",
                          {"name": "Ada", "email": address, "role": "SRE"})
        assert (answer.status_code == 201) is documented, (repr(address), answer.text)


def test_a_yyyy_mm_dd_field_is_documented_as_a_calendar_date(spec: dict[str, Any]) -> None:
    deadline = spec["components"]["schemas"]["GoalSet"]["properties"]["deadline"]
    assert deadline["format"] == "date"


def test_a_405_names_every_method_the_path_serves(api: Api) -> None:
    answer = api.client.request("OPTIONS", "/v1/teams", headers=api.headers)
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"GET", "POST"}


def test_the_interactive_docs_load_no_asset_from_a_cdn(api: Api) -> None:
    for page in ("/docs", "/redoc"):
        html = api.client.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), (page, asset)
            assert api.client.get(asset).status_code == 200, (page, asset)


def test_text_the_bodies_refuse_is_documented_on_every_free_text_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever characters the body models refuse in text (``FORBIDDEN_IN_TEXT``, NUL
    and the bidirectional controls), every free text field of every body says so."""
    from services.api.app import create_app
    from services.api.models import common as schemas

    monkeypatch.setattr(schemas, "FORBIDDEN_IN_TEXT", re.compile("[\x00\u202a-\u202e]"),
                        raising=False)
    spec = create_app().openapi()
    models = spec["components"]["schemas"]
    refused = {"pattern": "[\\u0000\\u202a-\\u202e]"}
    assert models["MemberJoin"]["properties"]["name"]["not"] == refused
    assert models["MemberJoin"]["properties"]["responsibilities"]["items"]["not"] == refused
    assert models["ActionItem"]["properties"]["title"]["not"] == refused  # nested in a body
    assert "not" not in models["ActionItem"]["properties"]["owner_id"]  # a uuid, not text
    note = models["GoalSet"]["properties"]["title"]
    assert re.search(note["not"]["pattern"], "a\x00b") and not re.search(
        note["not"]["pattern"], "plain text")


def test_fields_that_are_trimmed_document_that_white_space_alone_is_refused(
    api: Api, spec: dict[str, Any],
) -> None:
    """A name is trimmed, then must not be empty: the document says it needs one
    character that is not white space; a unit, not trimmed, may be a space."""
    goal = spec["components"]["schemas"]["GoalSet"]["properties"]
    title = re.compile(goal["title"]["pattern"])
    assert not title.search(" \t\u3000") and title.search(" x ")
    assert "pattern" not in goal["unit"]
    team = api.team()
    answer = api.post(f"/v1/teams/{team}/members",
                      {"name": "\u3000", "email": "a@example.com", "role": "SRE"})
    assert answer.status_code == 422
