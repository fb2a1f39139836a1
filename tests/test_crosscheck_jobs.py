"""crosscheck() and randomised() run their real workloads several at a time (CROSSCHECK_JOBS):
the rows keep the workloads' order, a seed draws the same workloads whatever ``jobs`` is, the
runs really overlap, and an exception in one run reaches the caller. The real runs are replaced
by stand-ins here (tests/test_crosscheck.py runs the real ones)."""

from __future__ import annotations

import threading
import time

import pytest

from kafkalab import crosscheck as cc
from kafkalab import real


class _Stand:
    """compare_workload's stand-in: records the workloads it got and how many ran at once."""

    def __init__(self, seconds: float = 0.05):
        self.seconds, self.got, self.running, self.most = seconds, [], 0, 0
        self.lock = threading.Lock()

    def __call__(self, workload, details=False):
        w = real.normalize(workload)
        with self.lock:
            self.got.append(w["name"])
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds * (1 + len(w["name"]) % 3))  # uneven, so finishing order varies
        with self.lock:
            self.running -= 1
        return {"name": w["name"], "workload": w, "agree": True, "known_divergence": None,
                "differences": [], "first_difference": None, "real_elapsed_s": self.seconds}


def test_map_in_threads_keeps_order_and_raises():
    assert cc._map_in_threads(lambda x: (time.sleep(0.01 * (5 - x)), x)[1], list(range(5)), 4) \
        == list(range(5))

    def boom(x):
        if x == 2:
            raise ValueError("run 2 failed")
        return x

    with pytest.raises(ValueError, match="run 2 failed"):
        cc._map_in_threads(boom, list(range(5)), 3)


def test_crosscheck_rows_keep_the_workloads_order_and_runs_overlap(monkeypatch):
    stand = _Stand()
    monkeypatch.setattr(cc, "compare_workload", stand)
    report = cc.crosscheck(jobs=4)
    expected = [n for n in real.list_workloads()
                if n not in {g["name"] for g in cc.not_comparable()} and cc.unavailable_here(n) is None]
    assert [r["name"] for r in report["scenarios"]] == expected
    assert 2 <= stand.most <= 4, stand.most
    one = _Stand(0.001)
    monkeypatch.setattr(cc, "compare_workload", one)
    assert [r["name"] for r in cc.crosscheck(jobs=1)["scenarios"]] == expected
    assert one.most == 1


def test_randomised_draws_the_same_workloads_whatever_jobs_is(monkeypatch):
    drawn = {}
    for jobs in (1, 4):
        stand = _Stand(0.01)
        monkeypatch.setattr(cc, "compare_workload", stand)
        report = cc.randomised(examples=6, seed=5, jobs=jobs)
        drawn[jobs] = [e["workload"] for e in report["examples"]]
        assert report["agreeing"] == 6 and not report["failures"]
    assert drawn[1] == drawn[4]
    assert [w["name"] for w in drawn[1]] == [f"random-5-{i}" for i in range(6)]
