"""Fault-plan JSON fuzz (issue 13): random types, NaN, inf, huge ints and nesting give a
one-line FaultError or a valid run, never another exception."""

import json

from hypothesis import given
from hypothesis import strategies as st

from kafkalab.model import FaultError, simulate
from kafkalab.model.faults import CRASH_POINTS, from_json

from ._fuzz import budget, counterexample

KEYS = ["type", "message", "attempt", "delay_ms", "point", "index", "at_ms", "member", "times",
        "extra_ms", "after_message", "zombie", "lose_response", "lose_request",
        "consumer_crash", "bogus"]
TYPES = ["lose_response", "lose_request", "delay_response", "consumer_crash",
         "processing_failure", "slow_processing", "producer_restart", "random", "nope"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-3, 12), st.integers(-(2**70), 2**70), st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, 1.0, 1e308]),
    st.sampled_from(TYPES + list(CRASH_POINTS)), st.text(max_size=5))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=6)
faults = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(TYPES)},
                          optional={k: values for k in KEYS[1:]}),
    st.fixed_dictionaries({"type": values}),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
    values)
plans = st.one_of(st.lists(faults, max_size=3), faults)


@budget(150)
@given(plans, st.integers(0, 3))
def test_a_plan_is_a_fault_error_or_a_valid_run(plan, seed):
    text = json.dumps(plan, allow_nan=True)  # NaN and Infinity as JavaScript spells them
    try:
        parsed = from_json(text)
        r = simulate({"messages": 8, "consumers": 2, "partitions": 2,
                      "max.simulated.ms": 20_000}, parsed, seed, snapshots=False)
    except FaultError as exc:
        message = str(exc)
        if "\n" in message or len(message) > 400:
            counterexample("fault_plan_fuzz", plan=text, error=message)
        assert "\n" not in message and len(message) <= 400, message
        return
    except Exception as exc:  # anything else is a bug: a raw traceback for the learner
        counterexample("fault_plan_fuzz", plan=text, error=repr(exc))
        raise
    cats = r.ledger.categories()
    assert sorted(m for v in cats.values() for m in v) == list(range(8))
