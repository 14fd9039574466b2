"""librdkafka's logs and errors reach Python logging once per episode, with counted repeats."""

from __future__ import annotations

import logging
import time

import pytest
from confluent_kafka import KafkaError, Producer

from isthmus.devenv.ports import free_port
from isthmus.kafka.client_logs import ClientLog
from isthmus.kafka.settings import KafkaSettings

NAME = "test.kafka.client"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == NAME]


def test_a_repeated_error_is_logged_once_then_summarised(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = ClientLog(name=NAME, quiet_s=10, summary_s=30, clock=clock)
    caplog.set_level(logging.INFO, logger=NAME)
    down = KafkaError(KafkaError._TRANSPORT, "127.0.0.1:9092/1: Connect failed")
    for _ in range(600):  # every 50 ms for 30 s, as librdkafka does while the broker is away
        log.error(down)
        clock.now += 0.05
    clock.now += 0.1
    log.error(down)
    lines = _lines(caplog)
    assert lines[0] == "kafka client error _TRANSPORT: 127.0.0.1:9092/1: Connect failed"
    assert len(lines) == 2
    assert "repeated 600 times" in lines[1]
    assert caplog.records[-1].levelno == logging.WARNING


def test_a_new_episode_after_a_quiet_spell_logs_again(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = ClientLog(name=NAME, quiet_s=10, summary_s=30, clock=clock)
    caplog.set_level(logging.INFO, logger=NAME)
    down = KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down")
    log.error(down)
    clock.now += 1
    log.error(down)
    clock.now += 11
    log.error(down)
    assert _lines(caplog) == ["kafka client error _ALL_BROKERS_DOWN: 1/1 brokers are down"] * 2


def test_each_client_and_facility_is_its_own_episode(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    log = ClientLog(name=NAME, clock=clock)
    caplog.set_level(logging.DEBUG, logger=NAME)
    for _ in range(3):
        log.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#producer-1", "connect failed")
        log.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#consumer-2", "connect failed")
        log.log(logging.WARNING, "%s [%s] %s", "REQTMOUT", "rdkafka#producer-1", "timed out")
    assert sorted(_lines(caplog)) == [
        "kafka client rdkafka#consumer-2: connect failed",
        "kafka client rdkafka#producer-1: connect failed",
        "kafka client rdkafka#producer-1: timed out",
    ]


def test_fatal_errors_are_errors(caplog: pytest.LogCaptureFixture) -> None:
    log = ClientLog(name=NAME)
    caplog.set_level(logging.INFO, logger=NAME)
    log.error(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
    assert [r.levelno for r in caplog.records if r.name == NAME] == [logging.ERROR]


def test_a_real_client_without_broker_logs_through_python_not_stderr(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="isthmus.kafka.client")
    settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", client_id="no-broker")
    backoff = {"reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 50}
    producer = Producer({**settings.client_config(), **backoff})
    until = time.monotonic() + 3
    while time.monotonic() < until:
        producer.poll(0.05)
    lines = [r.getMessage() for r in caplog.records if r.name == "isthmus.kafka.client"]
    assert any("Connection refused" in line for line in lines)
    # librdkafka retried dozens of times; each kind of message appears once in this episode
    assert len(lines) == len(set(lines)) <= 6
    assert "rdkafka" not in capfd.readouterr().err
