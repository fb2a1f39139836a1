"""The broker log's compact form (the Lab's narrow column): viz chooses the short texts
(``log_spec(..., compact=True)``) and widgets.figures.fit_log only fits the geometry, leaving
every text as viz wrote it."""

from __future__ import annotations

import pytest

from kafkalab import scenarios
from kafkalab.viz.log import (
    BOUNDS,
    CATEGORIES,
    COMPACT_NAMES,
    COMPACT_TABLE_HEADER,
    TABLE_HEADER,
    log_spec,
)
from kafkalab.widgets.figures import fit_log

LONG = {key: name for key, name, *_ in (*CATEGORIES, *BOUNDS)}


@pytest.fixture(scope="module")
def txn():  # commit and abort markers, open transactions, an LSO, a producer-state table
    return scenarios.run("transactional-fencing")


def _scatter(spec: dict) -> dict[str, dict]:
    return {t["name"]: t for t in spec["data"] if t.get("type") == "scatter"}


def _table(spec: dict) -> dict:
    return next(t for t in spec["data"] if t.get("type") == "table")


def _texts(spec: dict) -> list:
    """Every text a log figure shows: trace names, texts, hovers, the table, titles, axes,
    annotations."""
    out: list = []
    for t in spec["data"]:
        out.append((t.get("name"), t.get("text"), t.get("hovertext")))
        if t.get("type") == "table":
            out.append((t["header"]["values"], t["cells"]["values"]))
    layout = spec["layout"]
    out.append(layout.get("title"))
    out += [(layout.get(axis) or {}).get(k) for axis in ("xaxis", "yaxis")
            for k in ("title", "ticktext")]
    out.append([a.get("text") for a in layout.get("annotations") or []])
    return out


def test_compact_log_has_short_labels_and_names(txn):
    full, compact = log_spec(txn), log_spec(txn, compact=True)
    markers = _scatter(full)[LONG["marker"]]
    assert {"COMMIT", "ABORT"} <= set(markers["text"])  # a short log spells them out
    short = _scatter(compact)
    assert set(short) == {COMPACT_NAMES.get(key, name) for key, name in LONG.items()}
    for key, name in COMPACT_NAMES.items():  # shorter, no parenthesis, in the legend
        assert len(name) < len(LONG[key]) and " (" not in name and name in short
    assert COMPACT_NAMES["aborted"] == "aborted record"
    assert COMPACT_NAMES["marker"] == "control marker"
    assert COMPACT_NAMES["committed"] == "committed offset"
    cm = short[COMPACT_NAMES["marker"]]
    assert set(cm["text"]) == {"C", "A"}
    assert [t[0] for t in cm["text"]] == [t[0] for t in markers["text"]]
    assert cm["hovertext"] == markers["hovertext"]  # the hover still says COMMIT / ABORT
    assert any("COMMIT" in h for h in cm["hovertext"])
    assert any("ABORT" in h for h in cm["hovertext"])
    committed = short[COMPACT_NAMES["committed"]]
    assert committed["x"] and not any(committed["text"])  # no label under the row
    assert "C" in _scatter(full)[LONG["committed"]]["text"]
    assert committed["hovertext"] == _scatter(full)[LONG["committed"]]["hovertext"]
    assert _table(full)["header"]["values"] == list(TABLE_HEADER)
    assert _table(compact)["header"]["values"] == list(COMPACT_TABLE_HEADER)
    assert all(str(h).count("<br>") <= 1 for h in COMPACT_TABLE_HEADER)
    assert compact["layout"]["xaxis"]["title"]["text"] == ""
    assert compact["layout"]["yaxis"]["title"]["text"] == ""
    assert full["layout"]["xaxis"]["title"]["text"]  # the full figure keeps its axis titles


@pytest.mark.parametrize("name", ["transactional-fencing", "exactly-once-pipeline",
                                  "commit-cost", "idempotent-producer-lost-ack"])
def test_fit_log_leaves_every_text_untouched(name):
    r = scenarios.run(name)
    for step in (None, len(r.events) // 2):
        spec = log_spec(r, step, compact=True)
        fitted = fit_log(spec)
        assert _texts(fitted) == _texts(spec)
        assert [t.get("type") for t in fitted["data"]] == [t.get("type") for t in spec["data"]]


def test_the_empty_tables_reason_is_wrapped_by_viz_and_left_alone_by_fit_log():
    from kafkalab.viz.log import COMPACT_REASON_LINE_CHARS, REASON_LINE_CHARS

    r = scenarios.run("at-most-once-auto-commit")  # idempotence off: no producer-state rows
    spec = log_spec(r, compact=True)
    fitted = fit_log(spec)
    assert _texts(fitted) == _texts(spec)  # fit_log reads and rewrites no text of viz's
    [[reason]] = _table(spec)["cells"]["values"]
    [[full_reason]] = _table(log_spec(r))["cells"]["values"]
    assert reason.replace("<br>", " ") == full_reason.replace("<br>", " ")
    for text, chars in ((reason, COMPACT_REASON_LINE_CHARS), (full_reason, REASON_LINE_CHARS)):
        lines = text.split("<br>")
        assert len(lines) > 1 and all(len(line) <= chars for line in lines), (chars, lines)
    assert len(reason.split("<br>")) <= len(full_reason.split("<br>"))  # the wider column
