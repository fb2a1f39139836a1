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


# -- The taught guarantees with groups of 1–3 consumers and random configs (issue 13) ---------
# Each property draws a group setup (1–3 consumers, 1–4 partitions, either client, rtt 0–2,
# zero or 1 ms costs) and a random fault plan. ``make fuzz`` runs 2,000 examples each and
# writes the minimal counterexample to build/fuzz/. Preconditions name the cases where the
# guarantee does not hold in Kafka itself (fact sheet: ../shared/reference/kafka-semantics.md).
from hypothesis import assume  # noqa: E402

from ._fuzz import budget, check, group_configs, plan_for  # noqa: E402

GROUP = budget(40)


@GROUP
@given(st.data(), st.sampled_from(["per-record", "per-batch"]), seeds)
def test_group_at_least_once_never_loses(data, strategy, seed):
    cfg = {**data.draw(group_configs()), "enable.auto.commit": False,
           "commit.strategy": strategy,
           "on.commit.error": data.draw(st.sampled_from(["crash", "close", "skip"])),
           # fact sheet A, "It loses records": an application that catches a processing
           # error and keeps polling skips that record; crash and close re-deliver it
           "on.processing.error": data.draw(st.sampled_from(["crash", "close"]))}
    plan = plan_for(data.draw, N, cfg["consumers"])
    r = simulate(cfg, plan, seed, snapshots=False)
    # auto.offset.reset=earliest (group_configs): with latest a member with no committed
    # offset starts at the end and skips what was written before (fact sheet A, defaults)
    assume(r.drained)  # an undrained run has unseen messages, not lost ones
    check(r.outcome["lost"] == 0, "group_at_least_once_never_loses",
          "at-least-once lost a message", config=cfg, faults=plan, seed=seed,
          lost=r.ledger.lost())


@GROUP
@given(st.data(), seeds)
def test_group_commit_before_processing_never_duplicates(data, seed):
    cfg = {**data.draw(group_configs()), "enable.auto.commit": False,
           "commit.strategy": "before-processing",
           # fact sheet A, "Exceeding max.poll.interval.ms": after CommitFailedException the
           # records are re-processed by the new owner; an application that swallows it and
           # processes anyway duplicates them (on.commit.error=skip), so it is not drawn
           "on.commit.error": data.draw(st.sampled_from(["crash", "close"])),
           # fact sheet B, idempotence: the producer's retries write no second copy, so every
           # duplicate here would come from the consumer side
           "enable.idempotence": True}
    plan = plan_for(data.draw, N, cfg["consumers"])
    r = simulate(cfg, plan, seed, snapshots=False)
    check(r.outcome["duplicates"] == 0, "group_commit_before_processing_never_duplicates",
          "commit-before-processing processed a message twice", config=cfg, faults=plan,
          seed=seed, duplicates=r.ledger.duplicates())


@GROUP
@given(st.data(), seeds, st.floats(0, 0.2))
def test_group_exactly_once_pipeline_in_the_committed_view(data, seed, p):
    consumers = data.draw(st.integers(1, 3))
    overrides = {"consumers": consumers, "partitions": data.draw(st.integers(1, 3)),
                 "network.rtt.ms": data.draw(st.sampled_from([0, 0.5, 2])),
                 "processing.ms": data.draw(st.sampled_from([0, 1]))}
    plan = [f for f in plan_for(data.draw, N, consumers, producer=False)
            if f["type"] != "processing_failure"]  # crash-only: the transform never skips
    plan += [{"type": "random", "consumer_crash": p}] if p else []
    r = scenarios.run("exactly-once-pipeline", seed=seed, messages=N, faults=plan,
                      overrides=overrides, snapshots=False)
    assume(r.drained)
    # (issue 17: the JoinGroup/SyncGroup barrier is modelled, so no assumption about a
    # partition reassigned while its old owner's transaction is open is needed any more)
    check(r.outcome["lost"] == 0 and r.outcome["duplicates"] == 0,
          "group_exactly_once_pipeline", "the exactly-once pipeline lost or duplicated",
          overrides=overrides, faults=plan, seed=seed, lost=r.ledger.lost(),
          duplicates=r.ledger.duplicates())


@GROUP
@given(st.data(), seeds)
def test_group_idempotent_single_session_producer_never_writes_twice(data, seed):
    cfg = {**data.draw(group_configs()), "enable.idempotence": True,
           "linger.ms": data.draw(st.sampled_from([0, 5])),
           "max.in.flight.requests.per.connection": data.draw(st.integers(1, 5)),
           "enable.auto.commit": False, "commit.strategy": "per-batch"}
    # one producer session: no producer_restart (fact sheet B, Restarts: a restarted
    # producer without transactional.id gets a new PID and its resends are not detected)
    plan = [f for f in plan_for(data.draw, N, cfg["consumers"], size=4)
            if f["type"] in ("lose_response", "lose_request", "delay_response")]
    r = simulate(cfg, plan, seed, snapshots=False)
    check(r.outcome["log_duplicates"] == 0, "group_idempotent_producer",
          "the idempotent producer wrote a message twice", config=cfg, faults=plan, seed=seed,
          log_duplicates=r.ledger.log_duplicates())
