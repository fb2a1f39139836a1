import pytest

from kafkalab.model import ConfigError
from kafkalab.model.config import resolve


def test_defaults_follow_the_client_model():
    java = resolve({})
    rdk = resolve({"client.model": "librdkafka"})
    assert java["enable.idempotence"] is True and rdk["enable.idempotence"] is False
    assert java["isolation.level"] == "read_uncommitted"
    assert rdk["isolation.level"] == "read_committed"
    assert java["auto.commit.interval.ms"] == rdk["auto.commit.interval.ms"] == 5000
    assert java["max.poll.records"] == 500 and java["auto.offset.reset"] == "latest"


def test_unknown_key_names_the_closest_valid_key():
    with pytest.raises(ConfigError, match=r"did you mean 'enable\.idempotence'"):
        resolve({"enable.idempotance": True})


@pytest.mark.parametrize("key,value,needle", [
    ("auto.commit.interval.ms", -1, "at least 0"),
    ("max.poll.records", 0, "at least 1"),
    ("acks", "2", "one of: 0, 1, all"),
    ("enable.auto.commit", "yes", "true or false"),
    ("messages", "ten", "integer"),
    ("messages", 10**9, "no more than"),
])
def test_bad_values_name_the_allowed_range(key, value, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        resolve({key: value})
    assert key in str(info.value)


def test_explicit_idempotence_conflicts_like_configexception():
    with pytest.raises(ConfigError, match="Must set acks to all"):
        resolve({"enable.idempotence": True, "acks": "1"})
    with pytest.raises(ConfigError, match=r"max\.in\.flight"):
        resolve({"enable.idempotence": "true", "max.in.flight.requests.per.connection": 6})


def test_defaulted_idempotence_is_silently_switched_off():
    assert resolve({"acks": "1"})["enable.idempotence"] is False


def test_librdkafka_adjusts_in_flight_for_idempotence():
    cfg = resolve({"client.model": "librdkafka", "enable.idempotence": True})
    assert cfg["max.in.flight.requests.per.connection"] == 5


def test_transactional_id_needs_idempotence():
    with pytest.raises(ConfigError, match=r"transactional\.id"):
        resolve({"transactional.id": "t", "enable.idempotence": False})


def test_aliases_are_accepted():
    # librdkafka's spellings are librdkafka's (issue 12.6): the Java client knows neither
    # smallest nor message.timeout.ms, so this runs with client.model=librdkafka
    cfg = resolve({"client.model": "librdkafka", "acks": -1, "auto.offset.reset": "smallest",
                   "message.timeout.ms": 1000})
    assert cfg["acks"] == "all" and cfg["auto.offset.reset"] == "earliest"
    assert cfg["delivery.timeout.ms"] == 1000
