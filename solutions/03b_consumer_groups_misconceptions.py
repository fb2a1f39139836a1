"""Wrong answers the checks of 03b_consumer_groups_exercises.ipynb must reject.

Facts: /work/shared/reference/kafka-semantics.md §G (a new owner starts at the committed
offset; a killed member runs no rebalance listener; static membership spares the rebalance, not
the uncommitted work; eager revokes every partition, cooperative only what moves; the group
uses the first assignor of the list; an evicted member keeps processing, a zombie)."""

from kafkalab.checks import QUESTIONS, Wrong

STRATEGY = "partition.assignment.strategy"
TRUTH = {
    "member crash: records run twice": True,
    "member crash with group.instance.id: records run twice": True,
    "member crash with commit.on.revoke: records run twice": True,
    "scale out with commit.on.revoke: records run twice": False,
    "a fifth member on four partitions: the work finishes sooner": False,
    "past max.poll.interval.ms: the member stops processing at once": False,
}
assert set(TRUTH) == set(QUESTIONS)


def _predict(**changes: bool) -> dict:
    keys = {"static": "member crash with group.instance.id: records run twice",
            "fifth": "a fifth member on four partitions: the work finishes sooner",
            "revoke_crash": "member crash with commit.on.revoke: records run twice",
            "zombie": "past max.poll.interval.ms: the member stops processing at once",
            "scale": "scale out with commit.on.revoke: records run twice"}
    return {**TRUTH, **{keys[k]: v for k, v in changes.items()}}


MISCONCEPTIONS = {
    "crash_safe_group": [
        Wrong("the myth: more consumers than partitions speeds things up", {"consumers": 6},
              "two of the six members are assigned nothing; the crash's new owner still "
              "starts at the committed offset",
              ("processed twice", "6 members for 4 partitions", "assigned nothing")),
        Wrong("the myth: static membership prevents all duplicates",
              {"group.instance.id": "app"},
              "group.instance.id spares the rebalance; the restarted member resumes at the "
              "committed offset", ("processed twice", "group.instance.id",
                                   "committed offset")),
        Wrong("commit on revoke covers a crash", {"commit.on.revoke": True},
              "a killed process runs no rebalance listener",
              ("processed twice", "runs no rebalance listener")),
        Wrong("commitSync per batch is as good", {"enable.auto.commit": False,
                                                  "commit.strategy": "per-batch"},
              "a crash mid-batch re-runs everything processed since the batch's start: on a "
              "backlog, whole batches", ("on a backlog", "committed offset")),
        Wrong("a faster auto-commit timer", {"auto.commit.interval.ms": 50},
              "the timer still leaves the records processed since its last tick uncommitted",
              ("processed twice", "committed offset")),
        Wrong("the constraint dodge: an idempotent sink", {"sink.idempotent": True},
              "the task asks for the consumer to keep the duplicates down, not the sink",
              ("the task asks for sink.idempotent=false",)),
    ],
    "scale_config": [
        Wrong("the myth: more consumers than partitions speeds things up", {"consumers": 6},
              "the extra members sit idle, and every join still stops the whole group",
              ("gave up partition", "6 members for 4 partitions")),
        Wrong("the myth: static membership prevents all duplicates (and stops)",
              {"group.instance.id": "app", "commit.on.revoke": True},
              "a joining member still rebalances the group, eagerly",
              ("gave up partition", "group.instance.id spares a rebalance only")),
        Wrong("cooperative-sticky alone", {STRATEGY: "cooperative-sticky"},
              "the moved partition is handed over at the committed offset, behind what its "
              "old owner processed since the last auto-commit",
              ("processed twice", "committed offset")),
        Wrong("the Java default list is already cooperative",
              {STRATEGY: "range,cooperative-sticky", "commit.on.revoke": True},
              "the group assigns with the first assignor of the list: range, eager",
              ("gave up partition", "first assignor of the list, range")),
        Wrong("commit on revoke alone", {"commit.on.revoke": True},
              "no duplicates, but the eager protocol stops every member at each change",
              ("gave up partition", "straight back")),
        Wrong("the constraint dodge: commit every record",
              {"enable.auto.commit": False, "commit.strategy": "per-record",
               STRATEGY: "cooperative-sticky"},
              "the task keeps auto-commit on",
              ("the task asks for enable.auto.commit=true",)),
    ],
    "predictions": [
        Wrong("the myth: static membership prevents all duplicates", _predict(static=False),
              "the restarted member resumes at the committed offset",
              ("group.instance.id", "resumed at the committed offset")),
        Wrong("the myth: more consumers than partitions speeds things up",
              _predict(fifth=True), "the fifth member is assigned nothing",
              ("fifth member", "assigned nothing")),
        Wrong("commit on revoke covers a crash", _predict(revoke_crash=False),
              "a killed process runs no listener", ("runs no rebalance listener",)),
        Wrong("an evicted member stops at once", _predict(zombie=True),
              "it keeps processing its batch: a zombie", ("zombie",)),
        Wrong("every rebalance duplicates", _predict(scale=True),
              "the listener's commit hands the moved partition over where the old owner "
              "stopped", ("where the old one stopped",)),
        Wrong("a prediction that is not yes or no", {**TRUTH,
                                                     "member crash: records run twice": "yes"},
              "each prediction is True or False", ("should be True or False",)),
    ],
}
