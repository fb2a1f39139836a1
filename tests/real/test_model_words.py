"""kafkalab.real speaks the model's words too (issue 15, item 2): old spellings stay."""

import pytest

from kafkalab.real.workloads import MODEL_WORDS, normalize

BASE = {"name": "w", "messages": 4}


@pytest.mark.parametrize(("model", "workload"), [
    ({"consumer": {"commit": "per-record"}}, {"consumer": {"commit": "after-each"}}),
    ({"consumer": {"commit": "per-batch", "max.poll.records": 3, "processing.ms": 2}},
     {"consumer": {"commit": "after-batch", "batch": 3, "processing_ms": 2}}),
    ({"crash": {"point": "after_processing", "record": 1}},
     {"crash": {"point": "after-process", "record": 1}}),
    ({"failure": {"record": 2, "then": "close"}}, {"failure": {"record": 2, "then": "raise"}}),
])
def test_the_models_words_mean_the_workloads_own(model, workload):
    assert normalize({**BASE, **model}) == normalize({**BASE, **workload})


def test_the_model_words_are_the_models():
    from kafkalab.model.config import COMMIT_STRATEGIES, PROPERTIES
    from kafkalab.model.faults import CRASH_POINTS

    assert set(MODEL_WORDS["commit"]) <= set(COMMIT_STRATEGIES)
    assert set(MODEL_WORDS["crash.point"]) <= set(CRASH_POINTS)
    assert set(MODEL_WORDS["failure.then"]) <= set(PROPERTIES["on.processing.error"].choices)
    assert set(MODEL_WORDS["consumer keys"]) <= set(PROPERTIES)
