"""Keep the glossary and the cheat-sheet in step with the notebooks.

    python tools/glossary.py          # rewrite the notebook cells from docs/, link first uses

* ``docs/glossary.md`` becomes the last section of notebook 00 (a markdown cell tagged
  ``glossary``); ``docs/cheatsheet.md`` the last cell of notebook 08 (tagged ``cheatsheet``).
  Links into ``../notebooks/`` are rewritten relative to the notebooks.
* In every notebook 00–08 and every solution notebook (so every exercise: run
  ``make exercises`` after this), the first use of each term in :data:`TERMS` (in markdown,
  outside headings, code and links) becomes a link to that term in notebook 00's glossary. A
  later run leaves existing links alone, so the script is idempotent.

``tests/test_glossary.py`` checks that the committed notebooks equal what this script makes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GLOSSARY = ROOT / "docs" / "glossary.md"
CHEATSHEET = ROOT / "docs" / "cheatsheet.md"
FIRST = "00_start_here.ipynb"
PATH_NOTEBOOKS = [f"{n:02d}" for n in range(9)]  # the guided path: 00-08

# glossary heading -> how the notebooks spell it (case-insensitive; longest terms first)
TERMS: dict[str, str] = {
    "Last stable offset": r"last stable offset",
    "Log end offset": r"log end offset",
    "High watermark": r"high watermark",
    "Committed offset": r"committed offsets?",
    "Stored offset": r"stored offsets?",
    "Group coordinator": r"group coordinator",
    "Transaction coordinator": r"transaction coordinator",
    "Idempotent producer": r"idempotent producer",
    "Idempotent sink": r"idempotent sink",
    "Static membership": r"static (?:group )?membership",
    "Sequence number": r"sequence numbers?",
    "Consumer group": r"consumer group",
    "Position": r"position",
    "Isolation level": r"isolation levels?",
    "In-flight requests": r"in[- ]flight",
    "Control marker": r"(?:control |commit |abort )?markers?",
    "At-most-once": r"at-most-once",
    "At-least-once": r"at-least-once",
    "Exactly-once": r"exactly-once",
    "Auto-commit": r"auto-commit",
    "Acknowledgement": r"acknowledgements?",
    "Rebalance": r"rebalanc(?:e|es|ed|ing)",
    "Generation": r"generation",
    "Epoch": r"epochs?",
    "Fencing": r"fenc(?:ed|ing)",
    "Zombie": r"zombies?",
    "PID": r"PIDs?",
    "ISR": r"ISR|in-sync replicas?",
    "Transaction": r"transactions?(?! coordinator)",
    "Partition": r"partitions?",
}

_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_CODE = re.compile(r"`[^`\n]*`")


def anchor(term: str) -> str:
    """JupyterLab's id for a heading: its text with spaces as dashes (createHeaderId)."""
    return term.replace(" ", "-")


def target(term: str, notebook: str) -> str:
    """The link to ``term`` from ``notebook`` (a path relative to the repository)."""
    if notebook == f"notebooks/{FIRST}":
        return f"#{anchor(term)}"
    if notebook.startswith("notebooks/"):
        return f"{FIRST}#{anchor(term)}"
    return f"../notebooks/{FIRST}#{anchor(term)}"  # solutions/ and exercises/


def glossary_terms() -> list[str]:
    return re.findall(r"^### (.+)$", GLOSSARY.read_text(encoding="utf-8"), flags=re.M)


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _from_docs(text: str) -> str:
    """A docs/ page as notebook markdown: links relative to notebooks/, headings one level down
    for the page title."""
    text = text.replace("](../notebooks/", "](")
    return re.sub(r"^# ", "## ", text, count=1, flags=re.M).rstrip("\n")


def glossary_cell_text() -> str:
    text = GLOSSARY.read_text(encoding="utf-8")
    intro_end = text.index("\n### ")
    body = text[intro_end + 1:]
    head = ("## Glossary\n\nOne sentence per term, and where the path shows it. Every notebook "
            "links a term here the first time it uses it. (The same text is "
            "`docs/glossary.md`.)\n\n")
    return head + _from_docs(body)


def cheatsheet_cell_text() -> str:
    return _from_docs(CHEATSHEET.read_text(encoding="utf-8")) + \
        "\n\n(The same page is `docs/cheatsheet.md`.)"


def _spans(text: str) -> list[tuple[int, int, str]]:
    """Regions of a markdown text that are not prose: fenced code, inline code, headings,
    link URLs; link texts are kept apart as ("link", url)."""
    out = []
    for m in re.finditer(r"^```.*?^```", text, flags=re.M | re.S):
        out.append((m.start(), m.end(), "code"))
    for m in re.finditer(r"^#.*$", text, flags=re.M):
        out.append((m.start(), m.end(), "heading"))
    for m in _CODE.finditer(text):
        out.append((m.start(), m.end(), "code"))
    for m in _LINK.finditer(text):
        out.append((m.start(1), m.end(1), "link:" + m.group(2)))
        out.append((m.end(1), m.end(), "url"))
    return out


def uses(text: str, pattern: str) -> list[tuple[int, int, str | None]]:
    """Every use of a term in prose or link text: (start, end, link URL or None)."""
    spans = _spans(text)
    found = []
    spaced = pattern.replace(" ", r"\s+")  # a term may wrap across lines
    for m in re.finditer(rf"(?<![\w.#/-]){spaced}(?![\w-])", text, flags=re.I):
        inside = [kind for s, e, kind in spans if s <= m.start() < e]
        if any(k in ("code", "heading", "url") for k in inside):
            continue
        link = next((k[5:] for k in inside if k.startswith("link:")), None)
        if link is not None and "#" not in link:
            continue  # the text of a link elsewhere (a notebook's title): links do not nest
        found.append((m.start(), m.end(), link))
    return found


def first_uses(nb: dict, name: str) -> dict[str, tuple[int, int, int, str | None]]:
    """Per term: (cell index, start, end, link URL or None) of its first use in the notebook's
    markdown (notebook 00's glossary section itself excluded)."""
    out: dict[str, tuple[int, int, int, str | None]] = {}
    for term, pattern in TERMS.items():
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "markdown" or {"glossary", "cheatsheet"} & set(_tags(cell)):
                continue
            found = uses(_source(cell), pattern)
            if found:
                out[term] = (i, *found[0])
                break
    return out


def link_first_uses(nb: dict, name: str) -> dict:
    """Wrap each term's first use in a link to the glossary (longest terms first, so a term
    inside a longer one is not linked alone)."""
    for term in sorted(TERMS, key=len, reverse=True):
        where = first_uses(nb, name).get(term)
        if where is None or where[3] is not None:
            continue
        i, start, end, _ = where
        text = _source(nb["cells"][i])
        nb["cells"][i]["source"] = (text[:start] + f"[{text[start:end]}]({target(term, name)})"
                                    + text[end:])
    return nb


def _set_last_cell(nb: dict, tag: str, text: str, name: str) -> None:
    cell = {"cell_type": "markdown", "id": f"{name[:2]}-{tag}", "metadata": {"tags": [tag]},
            "source": text}
    cells = [c for c in nb["cells"] if tag not in _tags(c)]
    nb["cells"] = [*cells, cell]


def rendered(path: Path) -> dict:
    """What the notebook at ``path`` should hold."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    if path.name == FIRST:
        _set_last_cell(nb, "glossary", glossary_cell_text(), path.name)
    if path.name.startswith("08_"):
        _set_last_cell(nb, "cheatsheet", cheatsheet_cell_text(), path.name)
    return link_first_uses(nb, where(path))


def where(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def path_notebooks() -> list[Path]:
    return [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if p.name[:2] in PATH_NOTEBOOKS]


def solution_notebooks() -> list[Path]:
    """The exercises are made from these (tools/make_exercises.py), links included."""
    return sorted((ROOT / "solutions").glob("*.ipynb"))


def main() -> int:
    sys.path.insert(0, str(ROOT / "tools"))
    from make_exercises import dumps

    for path in path_notebooks() + solution_notebooks():
        text = dumps(rendered(path))
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
