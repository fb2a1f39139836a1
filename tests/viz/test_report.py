"""html_report: one self-contained page, plotly.js once, anomalies explained, < 3 MB."""

from __future__ import annotations

from kafkalab import scenarios
from kafkalab.report import html_report


def test_default_scenario_report_is_self_contained_and_small():
    r = scenarios.run("at-most-once-auto-commit")
    page = html_report(r)
    assert len(page.encode()) < 3_000_000
    assert page.count("DecompressionStream") == 1  # plotly.js embedded once
    assert "cdn.plot.ly" not in page and "https://" not in page.split("<body>")[0]
    for text in (r.explain(8), r.explain(9)):
        assert text.replace("'", "&#x27;") in page
    assert "Counters" in page and ">lost<" in page
    assert page.count("P.newPlot(") >= 5  # figures and animations


def test_report_modes():
    r = scenarios.run("read-committed-vs-uncommitted")
    cdn = html_report(r, plotlyjs="cdn")
    assert "cdn.plot.ly" in cdn and len(cdn) < 1_500_000
    assert "No anomalies" in cdn
    inline = html_report(r, plotlyjs="inline", animations=False)
    assert inline.count("<script>") >= 2 and "DecompressionStream" not in inline
