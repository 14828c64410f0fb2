"""The published contract marks personal data: each personal field of an event's JSON
Schema says whose (``x-personal-data``) and which field names the subject, and the
AsyncAPI document lists them per message."""

from __future__ import annotations

import jsonschema

from infra.contract.schemas import all_event_schemas, asyncapi_document
from infra.kafka.topics import Topics

SCHEMAS = all_event_schemas()


def _data(type_name: str) -> dict:
    return SCHEMAS[type_name]["properties"]["data"]


def test_a_members_name_and_email_are_marked_as_the_members_personal_data() -> None:
    fields = _data("opsledger.teams.MemberJoined.v1")["properties"]
    assert fields["name"]["x-personal-data"] == "member"
    assert fields["email"]["x-personal-data-subject"] == "member_id"
    assert "x-personal-data" not in fields["role"]


def test_the_principal_bound_to_a_member_is_marked_as_the_members_personal_data() -> None:
    for type_name in ("opsledger.teams.MemberJoined.v1", "opsledger.teams.MemberMovedIn.v1"):
        assert _data(type_name)["properties"]["principal"]["x-personal-data"] == "member"
    bound = _data("opsledger.teams.PrincipalBound.v1")["properties"]
    assert bound["principal"]["x-personal-data-subject"] == "member_id"
    assert bound["previous_principal"]["x-personal-data"] == "member"


def test_the_customers_identity_inside_customer_feedback_is_marked() -> None:
    fields = _data("opsledger.feedback.CustomerFeedbackReceived.v1")["properties"]
    customer = next(o for o in fields["customer"]["anyOf"] if o.get("type") == "object")
    assert customer["properties"]["email"]["x-personal-data"] == "customer"
    assert customer["required"] == ["email", "name"]
    assert fields["text"]["x-personal-data-subject"] == "customer.email"


def test_customer_feedback_with_and_without_a_customer_validates_ciphertext_included() -> None:
    data = _data("opsledger.feedback.CustomerFeedbackReceived.v1")
    old = {"team_id": "t", "channel": "email", "score": None, "text": "slow",
           "subject_member_id": None}
    jsonschema.validate(old, data)  # stored before customer existed
    jsonschema.validate({**old, "customer": {"name": "pii:v1:customer:c1:AAAA",
                                             "email": "[erased]"}}, data)
    try:
        jsonschema.validate({**old, "customer": {"name": "Ana"}}, data)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a customer without an email validated")


def test_asyncapi_lists_each_messages_personal_fields_and_whose() -> None:
    document = asyncapi_document(Topics("opsledger"), SCHEMAS)
    messages = {m["name"]: m for m in document["components"]["messages"].values()}
    assert messages["opsledger.feedback.CustomerFeedbackReceived.v1"]["x-personal-data"] == {
        "text": "customer", "customer.name": "customer", "customer.email": "customer"}
    assert messages["opsledger.feedback.PeerFeedbackGiven.v1"]["x-personal-data"] == {
        "text": "member"}
    assert "x-personal-data" not in messages["opsledger.teams.TeamFormed.v1"]
