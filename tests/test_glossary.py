"""Words a newcomer can follow (issue 14.6): the glossary (docs/glossary.md, also the last section
of notebook 00), the cheat-sheet (docs/cheatsheet.md, also the last cell of notebook 08), a
glossary link at each term's first use in every notebook of the path, and the blog post named by
its title. Facts in the glossary: /work/shared/reference/kafka-semantics.md §A (position vs
committed offset), §B (PID, epoch, sequence numbers, 5 batches), §C (markers, LSO), §F (HW, ISR),
§G (rebalance, generation, static membership).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOG_TITLE = "Message Delivery Guarantees in Kafka"


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


glossary = _tool("glossary")
PATH = glossary.path_notebooks()
LINKED = PATH + glossary.solution_notebooks()


def _md(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def test_the_path_is_00_to_08():
    # 03b (consumer groups, issue 17) and 04b (durability, issue 18) slot in without renumbering
    assert [p.name.split("_")[0] for p in PATH] == \
        ["00", "01", "02", "03", "03b", "04", "04b", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", LINKED, ids=[p.name for p in LINKED])
def test_notebook_is_in_step_with_docs_and_links(path):
    made = _tool("make_exercises").dumps(glossary.rendered(path))
    assert made == path.read_text(encoding="utf-8"), \
        f"{path.name} is not what tools/glossary.py makes of docs/: run python tools/glossary.py"


def test_every_term_has_one_sentence_and_a_place_on_the_path():
    text = glossary.GLOSSARY.read_text(encoding="utf-8")
    entries = re.split(r"^### ", text, flags=re.M)[1:]
    names = [e.splitlines()[0] for e in entries]
    assert len(names) == len(set(names))
    assert set(glossary.TERMS) <= set(names), set(glossary.TERMS) - set(names)
    for required in ("High watermark", "Log end offset", "Last stable offset", "PID", "Epoch",
                     "Sequence number", "Control marker", "ISR", "Rebalance", "Generation",
                     "Static membership"):
        assert required in names
    for entry in entries:
        name, body = entry.split("\n", 1)
        assert "Seen in" in body, name
        links = re.findall(r"\]\((\.\./[^)#]+)\)", body)
        assert links, f"{name}: no link to where the path shows it"
        for link in links:
            assert (glossary.GLOSSARY.parent / link).resolve().exists(), (name, link)


@pytest.mark.parametrize("path", LINKED, ids=[p.name for p in LINKED])
def test_each_term_is_linked_at_its_first_use(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for term, (cell, start, end, link) in glossary.first_uses(nb, path.name).items():
        text = "".join(nb["cells"][cell]["source"])[start:end]
        assert link == glossary.target(term, glossary.where(path)), \
            f"{path.name}: the first use of {term!r} ({text!r}, cell {cell}) is not linked"


def test_epoch_is_explained_where_05_first_uses_it():
    path = next(p for p in PATH if p.name.startswith("05_"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell, start, _, link = glossary.first_uses(nb, path.name)["Epoch"]
    text = "".join(nb["cells"][cell]["source"])
    assert link and "counter" in text[start:start + 200]


def test_glossary_links_land_on_a_heading_of_notebook_00():
    anchors = {glossary.anchor(t) for t in glossary.glossary_terms()}
    for path in LINKED:
        for md in _md(path):
            for target in re.findall(r"\]\(((?:(?:\.\./notebooks/)?00_start_here\.ipynb)?#[^)]+)\)",
                                     md):
                expected = glossary.target("X", glossary.where(path)).rsplit("#", 1)[0]
                assert target.rsplit("#", 1)[0] == expected, (path.name, target)
                assert target.split("#", 1)[1] in anchors, (path.name, target)


def test_notebook_00_ends_with_the_glossary_and_08_with_the_cheat_sheet():
    first = json.loads((glossary.NOTEBOOKS / glossary.FIRST).read_text(encoding="utf-8"))
    assert first["cells"][-1]["metadata"]["tags"] == ["glossary"]
    assert "### High watermark" in "".join(first["cells"][-1]["source"])
    last = next(p for p in PATH if p.name.startswith("08_"))
    nb = json.loads(last.read_text(encoding="utf-8"))
    assert nb["cells"][-1]["metadata"]["tags"] == ["cheatsheet"]


def test_the_cheat_sheet_gives_both_clients_and_what_breaks_each_guarantee():
    text = glossary.CHEATSHEET.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| guarantee"))
    assert [c.strip() for c in header.strip("|").split("|")] == \
        ["guarantee", "Java client", "librdkafka (confluent-kafka-python)", "what breaks it"]
    rows = [line for line in text.splitlines() if line.startswith("| **")]
    assert len(rows) >= 6
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), row
    for needed in ("at-most-once", "at-least-once", "exactly-once", "enable.auto.offset.store",
                   "store_offsets", "sendOffsetsToTransaction", "send_offsets_to_transaction",
                   "read_committed", "enable.idempotence"):
        assert needed in text, needed


def test_the_blog_post_is_named_by_its_title():
    files = [*PATH, ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    mentions = 0
    for path in files:
        text = " ".join(_md(path)) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
        assert "popular blog post" not in text and "a popular post" not in text, path.name
        for m in re.finditer(r"blog post", text):
            mentions += 1
            around = text[m.start():m.end() + 60]
            assert BLOG_TITLE in around, f"{path.name}: 'blog post' without its title: {around!r}"
    assert mentions >= 1


# Said when kafkalab had one replica; since issue 18 it models replication (model/replication.py)
ONE_REPLICA_CLAIMS = ("kafkalab's single replica", "kafkalab has one replica",
                      "kafkalab has a single replica", "one broker, no replicas",
                      "replication is not modelled", "replication is not modeled")


def test_the_isr_entry_says_kafkalab_models_replication():
    """The ISR entry named only Kafka's behaviour, and the path said kafkalab has one replica;
    it models brokers, replication.factor and min.insync.replicas (model/replication.py), one
    replica by default. Property names from model/config.py PROPERTIES (fact sheet §F)."""
    from kafkalab.model.config import PROPERTIES

    text = glossary.GLOSSARY.read_text(encoding="utf-8")
    isr = re.split(r"^### ", text, flags=re.M)
    entry = next(e for e in isr if e.startswith("ISR\n"))
    for name in ("brokers", "replication.factor", "min.insync.replicas",
                 "replica.lag.time.max.ms"):
        assert name in PROPERTIES and f"`{name}`" in entry, name
    assert "NOT_ENOUGH_REPLICAS" in entry and "by default" in entry
    files = [*PATH, *glossary.solution_notebooks(), ROOT / "README.md",
             *sorted((ROOT / "docs").glob("*.md"))]
    for path in files:
        text = " ".join(_md(path)) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
        text = " ".join(text.lower().split())
        for claim in ONE_REPLICA_CLAIMS:
            assert claim not in text, f"{path.name}: {claim!r}"
