"""Properties over random fault plans and seeds (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkalab import scenarios
from kafkalab.model import simulate

N = 12
POINTS = ["after_poll", "before_processing", "after_processing", "before_commit",
          "after_commit"]

crash = st.builds(lambda point, k: {"type": "consumer_crash", "point": point, "index": k},
                  st.sampled_from(POINTS), st.integers(1, 2 * N))
lost_ack = st.builds(lambda m, a: {"type": "lose_response", "message": m, "attempt": a},
                     st.integers(0, N - 1), st.integers(1, 2))
lost_request = st.builds(lambda m: {"type": "lose_request", "message": m, "attempt": 1},
                         st.integers(0, N - 1))
failure = st.builds(lambda m: {"type": "processing_failure", "message": m},
                    st.integers(0, N - 1))
consumer_faults = st.lists(st.one_of(crash, failure), max_size=3)
seeds = st.integers(0, 10_000)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = {"messages": N, "producer.send.interval.ms": 1, "auto.offset.reset": "earliest",
        "max.poll.records": 5, "request.timeout.ms": 50, "retry.backoff.ms": 5}


@FAST
@given(consumer_faults, seeds, st.sampled_from(["per-record", "per-batch"]))
def test_at_least_once_never_loses(faults, seed, strategy):
    r = simulate({**BASE, "enable.auto.commit": False, "commit.strategy": strategy}, faults,
                 seed)
    assert r.outcome["lost"] == 0, [r.explain(m) for m in r.ledger.lost()]


@FAST
@given(st.lists(crash, max_size=3), seeds)
def test_java_auto_commit_with_hard_crashes_never_loses(faults, seed):
    r = simulate({**BASE, "client.model": "java", "enable.auto.commit": True,
                  "auto.commit.interval.ms": 3}, faults, seed)
    assert r.outcome["lost"] == 0


@FAST
@given(consumer_faults, seeds)
def test_commit_before_processing_never_duplicates(faults, seed):
    r = simulate({**BASE, "enable.auto.commit": False,
                  "commit.strategy": "before-processing"}, faults, seed)
    assert r.outcome["duplicates"] == 0


@FAST
@given(st.lists(st.one_of(lost_ack, lost_request), max_size=4), seeds)
def test_idempotent_single_session_producer_never_writes_twice(faults, seed):
    r = simulate({**BASE, "enable.idempotence": True, "linger.ms": 0,
                  "enable.auto.commit": False, "commit.strategy": "per-batch"}, faults, seed)
    assert r.outcome["log_duplicates"] == 0 and r.outcome["lost"] == 0


@FAST
@given(st.lists(crash, max_size=3), seeds, st.floats(0, 0.2))
def test_exactly_once_pipeline_in_the_committed_view(faults, seed, p):
    plan = faults + ([{"type": "random", "consumer_crash": p}] if p else [])
    r = scenarios.run("exactly-once-pipeline", seed=seed, messages=N, faults=plan)
    assert r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(crash, failure, lost_ack), max_size=3), seeds)
def test_same_inputs_give_byte_identical_json(faults, seed):
    cfg = {**BASE, "enable.auto.commit": False, "commit.strategy": "per-record"}
    a = simulate(cfg, faults, seed).to_json()
    b = simulate(cfg, faults, seed).to_json()
    assert a == b
