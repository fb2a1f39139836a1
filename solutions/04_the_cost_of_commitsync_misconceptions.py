"""Wrong answers the checks of 04_the_cost_of_commitsync_exercises.ipynb must reject."""

from kafkalab.checks import Wrong

OFF = {"enable.auto.commit": False}

MISCONCEPTIONS = {
    "fast_config": [
        Wrong("the safe habit: commitSync after every record", {**OFF, "commit.strategy": "per-record"},
              "one coordinator round trip per record", ("below the target", "500 commits")),
        Wrong("the myth: commit first, it's faster", {**OFF, "commit.strategy": "before-processing",
                                                      "max.poll.records": 500},
              "fast, but a crash after the commit loses the batch",
              ("fast enough", "was lost", "before processing")),
        Wrong("the off-by-one: batches of one record",
              {**OFF, "commit.strategy": "per-batch", "max.poll.records": 1},
              "a batch of one is a commit per record", ("below the target", "500 commits")),
        Wrong("the wrong client: librdkafka's auto-commit", {"client.model": "librdkafka"},
              "fast, but librdkafka's timer commits stored offsets mid-batch",
              ("fast enough", "was lost", "background auto-commit")),
    ],
    "small_batches": [
        Wrong("the constraint dodge: bigger batches",
              {**OFF, "commit.strategy": "async-per-batch", "max.poll.records": 500},
              "the task says max.poll.records must stay at 20",
              ("the task asks for max.poll.records=20",)),
        Wrong("the default batch size", {**OFF, "commit.strategy": "async-per-batch"},
              "the default is 500, not 20", ("the task asks for max.poll.records=20", "the default")),
        Wrong("commitSync per batch of 20", {**OFF, "commit.strategy": "per-batch",
                                             "max.poll.records": 20},
              "25 synchronous round trips cost too much", ("below the target", "25 commits")),
        Wrong("the wrong client: librdkafka's auto-commit",
              {"client.model": "librdkafka", "max.poll.records": 20},
              "fast, but the timer commits stored offsets mid-batch",
              ("fast enough", "was lost", "background auto-commit")),
    ],
}
