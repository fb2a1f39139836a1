"""The Lab shows its verdict first (issue 13 item 5, issue 14): a run with a bad outcome (lost,
processed more than once, never sent, not drained, stopped) gets a verdict line before the raw
counters; a clean run gets none (no extra line on a laptop screen); the counters include
never sent."""

from __future__ import annotations

import re

import pytest

from kafkalab.model import simulate
from kafkalab.widgets.figures import counters_html, verdict
from kafkalab.widgets.lab import Lab


@pytest.fixture(scope="module")
def lab():
    return Lab()


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def _verdict_then_counters(html: str) -> str:
    """The verdict line's text, checked to come before the first raw counter."""
    text = _text(html)
    assert "sent: " in text
    head = text[: text.index("sent: ")]
    assert "kafkalab-verdict" in html and head.startswith("✗ "), html
    return head[2:].strip()


def test_a_run_that_loses_says_at_most_once_first(lab):
    lab.load("at-most-once-auto-commit")
    assert _verdict_then_counters(lab.counters.value) == "at-most-once: 2 lost, 0 duplicates"


def test_a_run_that_duplicates_says_at_least_once_first(lab):
    lab.load("at-most-once-auto-commit/java-crash")
    assert lab.outcome["duplicates"] == 8
    assert _verdict_then_counters(lab.counters.value) == "at-least-once: 8 duplicates, 0 lost"


def test_a_clean_run_adds_no_verdict_line(lab):
    lab.load("idempotent-producer-lost-ack")
    assert lab.outcome["exactly_once"] == lab.result.config["messages"]
    assert "kafkalab-verdict" not in lab.counters.value
    assert _text(lab.counters.value).startswith("sent: ")


def test_an_undrained_run_says_so_first_and_counts_never_sent(lab):
    r = simulate({"messages": 10, "producer.send.interval.ms": 5, "max.simulated.ms": 22}, [], 0)
    o = r.outcome
    assert not o["drained"] and o["never_sent"] > 0
    lab.show_result(r)
    head = _verdict_then_counters(lab.counters.value)
    assert head.startswith("NOT DRAINED") and f"{o['never_sent']} never sent" in head
    text = _text(lab.counters.value)
    assert f"never sent: {o['never_sent']}" in text and f"unseen: {o['unseen']}" in text


def test_counters_show_never_sent_even_when_zero():
    r = simulate({"messages": 3}, [], 0)
    text = _text(counters_html(r.outcome))
    assert "never sent: 0" in text and "unseen" not in text


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, None),
    ({"lost": 2}, "at-most-once: 2 lost, 0 duplicates"),
    ({"duplicates": 1}, "at-least-once: 1 duplicate, 0 lost"),
    ({"lost": 1, "duplicates": 3}, "neither at-most-once nor at-least-once: 1 lost, 3 duplicates"),
    ({"drained": False, "never_sent": 4, "unseen": 2},
     "NOT DRAINED: 4 never sent, 2 sent but not processed yet"),
    ({"drained": False, "never_sent": 1, "duplicates": 2},
     "NOT DRAINED (so far at-least-once): 2 duplicates, 0 lost, 1 never sent"),
    ({"stopped": "stopped: the simulation made no progress at t=3 ms"},
     "stopped: the simulation made no progress at t=3 ms"),
])
def test_verdict_words(changes, expected):
    clean = {"lost": 0, "duplicates": 0, "never_sent": 0, "unseen": 0, "drained": True,
             "stopped": None}
    assert verdict({**clean, **changes}) == expected
