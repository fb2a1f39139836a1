"""Shared pieces of the property tests: example budgets and the counterexample writer.

CI runs a few dozen examples per property (a few seconds each). ``make fuzz`` sets
KAFKALAB_FUZZ_EXAMPLES=2000 and KAFKALAB_FUZZ_OUT=build/fuzz: a failing property writes its
minimal counterexample there (hypothesis replays the shrunk example last, so the file left
behind is the minimal one), ready to paste into ``simulate(config, faults, seed)``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("KAFKALAB_FUZZ_EXAMPLES", "0"))
OUT = os.environ.get("KAFKALAB_FUZZ_OUT")


def budget(ci_examples: int) -> settings:
    return settings(max_examples=FUZZ_EXAMPLES or ci_examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large],
                    print_blob=True)


def counterexample(name: str, **example) -> None:
    """Write the failing example (the last one written is hypothesis's minimal one)."""
    if not OUT:
        return
    path = Path(OUT)
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{name}.json").write_text(json.dumps(example, indent=2, default=repr) + "\n")


def check(ok: bool, name: str, message: str, **example) -> None:
    if not ok:
        counterexample(name, **example)
    assert ok, f"{message}: {json.dumps(example, default=repr)}"


POINTS = ["after_poll", "before_processing", "after_processing", "before_commit",
          "after_commit"]


@st.composite
def group_configs(draw, messages: int = 12) -> dict:
    """A random valid group setup: 1–3 consumers, fast or zero costs, either client."""
    consumers = draw(st.integers(1, 3))
    return {
        "messages": messages,
        "consumers": consumers,
        "partitions": draw(st.integers(1, 4)),
        "client.model": draw(st.sampled_from(["java", "librdkafka"])),
        "network.rtt.ms": draw(st.sampled_from([0, 0.5, 2])),
        "processing.ms": draw(st.sampled_from([0, 1])),
        "commit.write.ms": draw(st.sampled_from([0, 1])),
        "max.poll.records": draw(st.sampled_from([1, 3, 5, 500])),
        "producer.send.interval.ms": draw(st.sampled_from([0, 1])),
        "consumer.start.ms": draw(st.sampled_from([0, 20])),
        "session.timeout.ms": draw(st.sampled_from([200, 45000])),
        "max.poll.interval.ms": draw(st.sampled_from([30, 300000])),
        "restart.delay.ms": draw(st.sampled_from([0, 50])),
        "auto.offset.reset": "earliest",
        "request.timeout.ms": 50, "retry.backoff.ms": 5,
    }


def consumer_faults(n: int, consumers: int = 3):
    crash = st.builds(lambda point, k, member: {"type": "consumer_crash", "point": point,
                                                "index": k, **member},
                      st.sampled_from(POINTS), st.integers(1, 2 * n),
                      st.one_of(st.just({}), st.builds(lambda m: {"member": m},
                                                       st.integers(0, consumers - 1))))
    timed = st.builds(lambda t: {"type": "consumer_crash", "point": "time", "at_ms": t},
                      st.sampled_from([3, 10, 25, 60]))
    failure = st.builds(lambda m: {"type": "processing_failure", "message": m},
                        st.integers(0, n - 1))
    slow = st.builds(lambda m, x: {"type": "slow_processing", "message": m, "extra_ms": x},
                     st.integers(0, n - 1), st.sampled_from([10, 100]))
    return st.one_of(crash, timed, failure, slow)


def producer_faults(n: int):
    lost_ack = st.builds(lambda m, a: {"type": "lose_response", "message": m, "attempt": a},
                         st.integers(0, n - 1), st.integers(1, 2))
    lost_request = st.builds(lambda m: {"type": "lose_request", "message": m, "attempt": 1},
                             st.integers(0, n - 1))
    delayed = st.builds(lambda m, d: {"type": "delay_response", "message": m, "delay_ms": d},
                        st.integers(0, n - 1), st.sampled_from([10, 80, 300]))
    return st.one_of(lost_ack, lost_request, delayed)


def plan_for(draw, n: int, consumers: int, producer: bool = True, size: int = 3) -> list:
    kinds = consumer_faults(n, consumers)
    if producer:
        kinds = st.one_of(kinds, producer_faults(n))
    plan = draw(st.lists(kinds, max_size=size))
    return [f for f in plan if f.get("member", 0) < consumers]
