"""Anomalies reach a learner as sentences, never as raw dicts (issue 14.6).

``kafkalab.trace.anomalies.describe`` builds one sentence from an anomaly's fields. Every anomaly
the presets produce, and every type the ledger names (kafka-semantics.md §D), reads as a sentence
that carries its numbers; notebook 08 prints anomalies through it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kafkalab import scenarios
from kafkalab.trace.anomalies import describe

ROOT = Path(__file__).resolve().parents[1]

EXAMPLES = [
    ({"type": "lost", "message": 8}, ["Message 8", "lost"]),
    ({"type": "unseen", "message": 2}, ["Message 2", "not processed"]),
    ({"type": "never-sent", "message": 9}, ["Message 9", "never sent"]),
    ({"type": "duplicate", "message": 3, "times": 3}, ["Message 3", "3 times"]),
    ({"type": "log-duplicate", "message": 3, "offsets": [[0, 3], [0, 12]]},
     ["offset 3", "offset 12", "Jepsen: duplicate"]),
    ({"type": "lost-write", "message": 1}, ["Message 1", "Jepsen: lost-write"]),
    ({"type": "G1a", "message": 2}, ["aborted", "Jepsen: G1a"]),
    ({"type": "nonmonotonic-send", "message": 4, "partition": 0, "offset": 3,
      "previous": {"message": 5, "offset": 4}}, ["message 5", "offset 3 < 4", "reordered"]),
    ({"type": "nonmonotonic-poll", "actor": "consumer-0", "partition": 0, "from": 9, "to": 5,
      "t": 131.0}, ["consumer-0", "offset 5 again", "up to offset 9", "t=131 ms"]),
    ({"type": "poll-skip", "actor": "consumer-1", "partition": 1, "skipped": [3, 4, 5],
      "t": 12.5}, ["consumer-1", "offsets 3–5", "partition 1"]),
    ({"type": "something-new", "message": 7, "lag_ms": 20}, ["Something new", "message 7"]),
]


def _is_sentence(text: str) -> None:
    assert text[0].isupper() or text.startswith(("consumer", "reader")), text
    assert text.endswith(".") and "{" not in text and "'type'" not in text, text


@pytest.mark.parametrize("anomaly, words", EXAMPLES, ids=[a["type"] for a, _ in EXAMPLES])
def test_each_anomaly_type_is_a_sentence_with_its_numbers(anomaly, words):
    text = describe(anomaly)
    _is_sentence(text)
    for word in words:
        assert word in text, (word, text)


def test_the_sentence_follows_the_fields_not_a_template():
    a = {"type": "nonmonotonic-poll", "actor": "consumer-2", "partition": 3, "from": 40,
         "to": 17, "t": 5.0}
    text = describe(a)
    assert "consumer-2" in text and "partition 3" in text and "17" in text and "40" in text


def test_every_anomaly_of_every_preset_reads_as_a_sentence():
    kinds = set()
    names = [f"{base}/{v}" if v else base for base, preset in scenarios.PRESETS.items()
             for v in [None, *getattr(preset, "variants", {})]]
    for name in names:
        for a in scenarios.run(name, snapshots=False).anomalies:
            kinds.add(a["type"])
            _is_sentence(describe(a))
    assert {"lost", "duplicate"} <= kinds


def test_notebook_08_prints_anomalies_as_sentences():
    nb = json.loads((ROOT / "notebooks" / "08_playground.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    loops = [(s, m.group(1)) for s in sources
             for m in re.finditer(r"for (\w+) in [\w.]*\.anomalies", s)]
    assert loops, "notebook 08 no longer lists a run's anomalies"
    for source, name in loops:
        assert f"describe({name})" in source and f"print({name})" not in source, source
