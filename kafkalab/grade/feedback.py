"""Per-student HTML feedback: every task's status, the check's one-line reason and its full
text (the counterexample, with the model's explanation of what happened to the message)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..palette import CODE_BACKGROUND, DARK, INK, MUTED, PAGE_BACKGROUND, STATUS_TEXT

_MARK = {"pass": "✓", "fail": "✗", "not done": "…", "error": "!", "note": "i"}
CSS = (f"body{{font-family:sans-serif;max-width:900px;margin:2em auto;color:{INK}}}"
       f".task{{border-left:4px solid;padding:.4em .8em;margin:.8em 0;background:{PAGE_BACKGROUND}}}"
       f"pre{{white-space:pre-wrap;font-size:13px;background:{CODE_BACKGROUND};padding:.5em}}")


def student_page(student: str, subs) -> str:
    parts = [f"<h1>Feedback for {html.escape(student)}</h1>"]
    for sub in subs:
        passed = sum(r.passed for r in sub.rows if r.task != "(notebook)")
        tasks = sum(1 for r in sub.rows if r.task != "(notebook)")
        parts.append(f"<h2>{html.escape(sub.path.name)} — {passed}/{tasks} tasks pass</h2>")
        for r in sub.rows:
            colour = STATUS_TEXT.get(r.status, DARK)
            body = f"<pre>{html.escape(r.details)}</pre>" if r.details and r.status != "pass" \
                else ""
            title = r.title if r.task != "(notebook)" else "About the notebook"
            parts.append(f"<div class='task kafkalab-{r.status.replace(' ', '-')}' "
                         f"style='border-color:{colour}'><b style='color:{colour}'>"
                         f"{_MARK.get(r.status, '?')} {html.escape(title)}</b> "
                         f"<span style='color:{MUTED}'>({html.escape(r.status)})</span><br>"
                         f"{html.escape(r.reason)}{body}</div>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>kafkalab "
            f"feedback: {html.escape(student)}</title><style>{CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")


def safe_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", student).strip("._") or "student"


def write_feedback(subs, folder) -> list[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list] = {}
    for s in subs:
        by_student.setdefault(s.student, []).append(s)
    written = []
    for student, items in sorted(by_student.items()):
        path = out / f"{safe_name(student)}.html"
        path.write_text(student_page(student, items), encoding="utf-8")
        written.append(path)
    return written
