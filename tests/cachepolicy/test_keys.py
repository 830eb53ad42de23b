"""Key schema and charger-id validation: pure logic, no Redis."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cachepolicy.errors import InvalidChargerId, InvalidKey, InvalidPredictionType
from cachepolicy.keys import (
    all_version_keys,
    parse_prediction_key,
    prediction_key,
    validate_charger_id,
    validate_custom_key,
)
from vocabulary import ID_REGEX, TYPE_NAMES


def test_key_schema_matches_the_seed() -> None:
    assert prediction_key("failure", "v1", "CHG_001") == "prediction:failure:v1:CHG_001"
    assert prediction_key("anomaly", "v2", "a.b-c_9") == "prediction:anomaly:v2:a.b-c_9"


@pytest.mark.parametrize(
    "bad",
    ["", "*", "CHG*", "CHG?", "CHG[1]", "CHG:1", "CHG 1", "CHG\n1", "_CHG", "-x", "é", "x" * 65],
)
def test_bad_charger_ids_are_refused_with_a_named_error(bad: str) -> None:
    with pytest.raises(InvalidChargerId, match="charger_id"):
        validate_charger_id(bad)


def test_non_string_charger_id_is_refused() -> None:
    with pytest.raises(InvalidChargerId, match="must be a string"):
        validate_charger_id(42)


def test_ten_kilobyte_id_is_refused_and_the_message_stays_short() -> None:
    with pytest.raises(InvalidChargerId) as info:
        validate_charger_id("A" * 10_240)
    assert len(str(info.value)) < 200


def test_unknown_type_is_refused() -> None:
    with pytest.raises(InvalidPredictionType, match="failure, maintenance, anomaly"):
        prediction_key("battery", "v1", "CHG_001")


@given(st.text(max_size=80))
def test_any_accepted_id_is_glob_and_separator_free(candidate: str) -> None:
    try:
        validate_charger_id(candidate)
    except InvalidChargerId:
        assert ID_REGEX.fullmatch(candidate) is None
        return
    assert not any(c in candidate for c in "*?[]:\\ \n\r\t")
    assert parse_prediction_key(prediction_key("failure", "v1", candidate)) == (
        "failure",
        "v1",
        candidate,
        None,
    )


def test_all_version_keys_covers_every_type_and_version() -> None:
    keys = all_version_keys("CHG_1", ["v1", "v2"])
    assert len(keys) == len(TYPE_NAMES) * 2
    assert "prediction:maintenance:v2:CHG_1" in keys


@pytest.mark.parametrize("bad", ["", "cw:stats", "a\nb", "k" * 600])
def test_custom_keys_cannot_reach_internal_prefixes_or_break_lines(bad: str) -> None:
    with pytest.raises(InvalidKey):
        validate_custom_key(bad)
