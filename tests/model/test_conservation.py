"""Conservation (issue 13): every message of the workload is in exactly one outcome category,
drained or not, whatever the config and the fault plan."""

from hypothesis import given
from hypothesis import strategies as st

from kafkalab.model import ConfigError, simulate
from kafkalab.trace.ledger import CATEGORIES

from ._fuzz import budget, check, group_configs, plan_for

N = 10


@st.composite
def any_setup(draw):
    cfg = draw(group_configs(messages=draw(st.integers(0, N))))
    strategy = draw(st.sampled_from(["auto", "before-processing", "per-record", "per-batch",
                                     "async-per-batch", "transaction"]))
    cfg.update({
        "commit.strategy": strategy, "enable.auto.commit": strategy == "auto",
        "auto.commit.interval.ms": draw(st.sampled_from([1, 5, 5000])),
        "enable.idempotence": draw(st.booleans()),
        "acks": draw(st.sampled_from(["0", "1", "all"])),
        "on.processing.error": draw(st.sampled_from(["crash", "close", "skip"])),
        "on.commit.error": draw(st.sampled_from(["crash", "close", "skip"])),
        "sink.idempotent": draw(st.booleans()),
        "auto.offset.reset": draw(st.sampled_from(["earliest", "latest"])),
        # often too short to drain: the undrained accounting is what is tested
        "max.simulated.ms": draw(st.sampled_from([1, 5, 30, 3_600_000])),
    })
    if strategy == "transaction":
        cfg.update({"pipeline": True, "transactional.id": "t", "enable.idempotence": True,
                    "acks": "all"})
    elif draw(st.booleans()):
        cfg["pipeline"] = draw(st.booleans())
    n = cfg["messages"]
    plan = plan_for(draw, n, cfg["consumers"], size=4) if n else []
    if n and draw(st.booleans()):
        plan.append({"type": "producer_restart", "after_message": draw(st.integers(0, n - 1)),
                     "zombie": draw(st.booleans())})
    if draw(st.booleans()):
        plan.append({"type": "random",
                     "lose_response": draw(st.sampled_from([0, 0.1, 0.3])),
                     "consumer_crash": draw(st.sampled_from([0, 0.05]))})
    return cfg, plan


@budget(60)
@given(any_setup(), st.integers(0, 1000))
def test_every_message_is_in_exactly_one_category(setup, seed):
    cfg, plan = setup
    try:
        r = simulate(cfg, plan, seed, snapshots=False)
    except ConfigError:
        return  # a combination Kafka or kafkalab refuses (one line, tested elsewhere)
    o, n = r.outcome, r.config["messages"]
    cats = r.ledger.categories()
    ids = sorted(m for v in cats.values() for m in v)
    example = {"config": cfg, "faults": plan, "seed": seed, "outcome": o}
    check(ids == list(range(n)), "conservation", "a message is in no or two categories",
          **example)
    check(sum(o[k] for k in CATEGORIES) == n, "conservation", "the counts do not add up",
          **example)
    check(o["sent"] + o["never_sent"] == n, "conservation", "sent + never sent != messages",
          **example)
    check(o["lost"] == 0 or r.drained, "conservation", "an undrained run reports a loss",
          **example)
    check(o["unseen"] == 0 or not r.drained, "conservation", "a drained run has unseen",
          **example)
    check(o["processed"] == sum(len(m.processed) for m in r.ledger.messages), "conservation",
          "processed != the sink's applications", **example)
    if o["stopped"]:
        check(not r.drained and r.verdict.startswith("stopped: the simulation made no "
                                                     "progress at t="), "conservation",
              "a stopped run must say so first", **example)
    elif not r.drained and n:
        check(r.verdict.startswith("NOT DRAINED"), "conservation",
              "an undrained run must say so first", **example)
