"""A run always ends (issue 13): the hang cases and random configs run in a CHILD process
under a wall-clock ceiling, so a hang fails this test instead of hanging CI.

The ceiling is a safety net, not a timed assertion: it is many times what the runs need.
Each run must end drained, undrained (max.simulated.ms, a crash loop) or stopped by the
watchdog with its "stopped: the simulation made no progress at t=…" outcome, and the
ledger must still account for every message.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CEILING_S = 300  # generous: the whole child takes a few seconds

# The child: runs every case, prints one JSON line per case as it starts and as it ends.
CHILD = textwrap.dedent("""
    import json, random, sys
    from kafkalab import scenarios
    from kafkalab.model import simulate
    from kafkalab.model.config import ConfigError
    from kafkalab.trace.ledger import CATEGORIES

    def report(name, r):
        o = r.outcome
        cats = r.ledger.categories()
        ids = sorted(m for v in cats.values() for m in v)
        print(json.dumps({"end": name, "drained": r.drained, "stopped": o["stopped"],
                          "conserved": ids == list(range(r.config["messages"])),
                          "sum": sum(o[k] for k in CATEGORIES), "n": r.config["messages"],
                          "lost": o["lost"], "last": r.events[-1].kind if r.events
                          else None}), flush=True)

    def case(name, fn):
        print(json.dumps({"start": name}), flush=True)
        report(name, fn())

    cases = json.loads(sys.argv[1])
    for name, kind, args in cases:
        if kind == "preset":
            case(name, lambda: scenarios.run(args["name"], overrides=args.get("set", {}),
                                             faults=args.get("faults"), snapshots=False))
        else:
            case(name, lambda: simulate(args["config"], args["faults"], args.get("seed", 0),
                                        snapshots=False))
    rng = random.Random(int(sys.argv[2]))
    for i in range(int(sys.argv[3])):
        n = rng.randint(0, 25)
        strategy = rng.choice(["auto", "before-processing", "per-record", "per-batch",
                               "async-per-batch", "transaction"])
        cfg = {"messages": n, "partitions": rng.randint(1, 8), "consumers": rng.randint(1, 3),
               "network.rtt.ms": rng.choice([0, 0, 0.5, 2]),
               "processing.ms": rng.choice([0, 0, 1, 5]),
               "commit.write.ms": rng.choice([0, 1]), "broker.append.ms": rng.choice([0, 0.5]),
               "session.timeout.ms": rng.choice([100, 500, 45000]),
               "max.poll.interval.ms": rng.choice([5, 50, 300000]),
               "fetch.max.wait.ms": rng.choice([0, 10, 500]),
               "linger.ms": rng.choice([0, 5, 50]), "commit.strategy": strategy,
               "enable.auto.commit": strategy == "auto",
               "client.model": rng.choice(["java", "librdkafka"]),
               "auto.offset.reset": "earliest",
               "producer.send.interval.ms": rng.choice([0, 1, 5]),
               "max.poll.records": rng.choice([1, 5, 500]),
               "consumer.start.ms": rng.choice([0, 20]),
               "restart.delay.ms": rng.choice([0, 100]),
               "on.commit.error": rng.choice(["crash", "close", "skip"])}
        if strategy == "transaction":
            cfg.update({"pipeline": True, "transactional.id": "t"})
        elif rng.random() < 0.2:
            cfg["pipeline"] = True
        faults = []
        points = ["after_poll", "before_processing", "after_processing", "before_commit",
                  "after_commit"]
        for _ in range(rng.randint(0, 3)):
            k = rng.random()
            if k < 0.5:
                f = {"type": "consumer_crash", "point": rng.choice(points),
                     "index": rng.randint(1, 20)}
                if rng.random() < 0.5:
                    f["member"] = rng.randrange(cfg["consumers"])
                faults.append(f)
            elif n and k < 0.7:
                faults.append({"type": "lose_response", "message": rng.randrange(n)})
            elif n and k < 0.85:
                faults.append({"type": "slow_processing", "message": rng.randrange(n),
                               "extra_ms": rng.choice([10, 100, 1000])})
            else:
                faults.append({"type": "consumer_crash", "point": "time",
                               "at_ms": rng.choice([10, 30, 100])})
        name = f"random #{i}: {json.dumps(cfg)} {json.dumps(faults)}"
        try:
            case(name, lambda: simulate(cfg, faults, i, snapshots=False))
        except ConfigError as exc:  # a refused combination is an answer too
            print(json.dumps({"end": name, "refused": str(exc)}), flush=True)
""")

HANGS = [
    # issue 13 item 1: hung forever on main (a zero-time poll loop arming timers)
    ("rtt=0, 2 partitions, 2 consumers", "preset",
     {"name": "at-least-once-manual-commit",
      "set": {"network.rtt.ms": 0, "partitions": 2, "consumers": 2}}),
    ("rtt=0, 8 partitions, 3 consumers, one crash", "sim",
     {"config": {"messages": 30, "partitions": 8, "consumers": 3, "network.rtt.ms": 0,
                 "enable.auto.commit": False, "commit.strategy": "per-record",
                 "auto.offset.reset": "earliest"},
      "faults": [{"type": "consumer_crash", "point": "after_processing", "message": 5,
                  "member": 1}]}),
    ("rtt=0, zero processing and commit costs", "sim",
     {"config": {"messages": 20, "partitions": 3, "consumers": 3, "network.rtt.ms": 0,
                 "processing.ms": 0, "commit.write.ms": 0, "broker.append.ms": 0,
                 "fetch.max.wait.ms": 0, "producer.send.interval.ms": 1,
                 "enable.auto.commit": False, "commit.strategy": "per-batch",
                 "auto.offset.reset": "earliest"},
      "faults": [{"type": "consumer_crash", "point": "time", "at_ms": 5}]}),
    ("rtt=2, 8 partitions, 3 consumers, session 500, linger 50", "sim",
     {"config": {"messages": 22, "partitions": 8, "consumers": 3, "network.rtt.ms": 2,
                 "session.timeout.ms": 500, "linger.ms": 50, "enable.auto.commit": False,
                 "commit.strategy": "per-record", "auto.offset.reset": "earliest"},
      "faults": [{"type": "consumer_crash", "point": "after_processing", "message": 5}]}),
    # a genuine livelock (a batch takes longer than max.poll.interval.ms and the application
    # swallows CommitFailedException): Kafka would rebalance forever; the watchdog stops it
    ("rebalance storm", "preset",
     {"name": "at-least-once-manual-commit",
      "set": {"max.poll.interval.ms": 5, "processing.ms": 10, "commit.strategy": "per-batch",
              "on.commit.error": "skip"}}),
]
MUST_DRAIN = {"rtt=0, 2 partitions, 2 consumers", "rtt=0, 8 partitions, 3 consumers, one crash",
              "rtt=0, zero processing and commit costs",
              "rtt=2, 8 partitions, 3 consumers, session 500, linger 50"}


def _run_child(cases, seed: int, randoms: int) -> list[dict]:
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cases), str(seed),
                               str(randoms)], cwd=ROOT, capture_output=True, text=True,
                              timeout=CEILING_S)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        started = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        last = next((d["start"] for d in reversed(started) if "start" in d), "?")
        pytest.fail(f"a run did not end within {CEILING_S} s (a hang): {last}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if '"end"' in line]


def _check(ends: list[dict]) -> None:
    for d in ends:
        if "refused" in d:
            continue
        assert d["conserved"] and d["sum"] == d["n"], d
        if d["stopped"]:
            assert d["stopped"].startswith("stopped: the simulation made no progress at t="), d
            assert not d["drained"] and d["last"] == "stopped", d


def test_the_hang_cases_end_and_random_configs_always_end():
    ends = _run_child(HANGS, seed=13, randoms=40)
    assert len(ends) == len(HANGS) + 40
    _check(ends)
    by_name = {d["end"]: d for d in ends}
    for name in MUST_DRAIN:
        assert by_name[name]["drained"] and by_name[name]["lost"] == 0, by_name[name]
    storm = by_name["rebalance storm"]
    assert storm["stopped"] and "rebalance storm" in storm["stopped"]
