"""Wrong answers the checks of 03_at_least_once_manual_commit_exercises.ipynb must reject."""

from kafkalab.checks import Wrong

OFF = {"enable.auto.commit": False}


def commit_first(records, process, commit):
    commit(records[-1].offset + 1)
    for record in records:
        process(record)


def last_offset(records, process, commit):
    for record in records:
        process(record)
    commit(records[-1].offset)


def commit_in_finally(records, process, commit):
    try:
        for record in records:
            process(record)
    finally:
        commit(records[-1].offset + 1)


def first_record_only(records, process, commit):
    for record in records:
        process(record)
    commit(records[0].offset + 1)


def no_commit(records, process, commit):
    for record in records:
        process(record)


def two_arguments(records, process):
    for record in records:
        process(record)


MISCONCEPTIONS = {
    "per_record": [
        Wrong("the constraint dodge: auto-commit left on", {"commit.strategy": "per-record"},
              "the task asks for auto-commit off; the Java default is on",
              ("the task asks for enable.auto.commit=false", "the default")),
        Wrong("a commit per batch instead", {**OFF, "commit.strategy": "per-batch"},
              "the task asks for a commit after each record",
              ("the task asks for commit.strategy='per-record'",)),
        Wrong("commit first", {**OFF, "commit.strategy": "before-processing"},
              "not a commit after each record (and it loses)",
              ("the task asks for commit.strategy='per-record'",)),
        Wrong("a misspelled property", {"enable.autocommit": False, "commit.strategy": "per-record"},
              "Kafka refuses an unknown property", ("Unknown configuration",
                                                   "did you mean 'enable.auto.commit'")),
    ],
    "async_commits": [
        Wrong("commitSync instead", {**OFF, "commit.strategy": "per-batch", "max.poll.records": 10},
              "the task is about commitAsync", ("the task asks for commit.strategy='async-per-batch'",)),
        Wrong("the constraint dodge: auto-commit left on",
              {"commit.strategy": "async-per-batch", "max.poll.records": 10},
              "the task asks for auto-commit off", ("the task asks for enable.auto.commit=false",)),
        Wrong("batches of another size", {**OFF, "commit.strategy": "async-per-batch"},
              "the task asks for batches of at most 10 records",
              ("the task asks for max.poll.records=10",)),
        Wrong("commit before processing",
              {**OFF, "commit.strategy": "before-processing", "max.poll.records": 10},
              "not a commitAsync after the batch", ("the task asks for commit.strategy",)),
    ],
    "group_config": [
        Wrong("the constraint dodge: one partition, one consumer",
              {**OFF, "commit.strategy": "per-batch"},
              "the task asks for 2 partitions and 2 consumers",
              ("the task asks for partitions=2", "the task asks for consumers=2")),
        Wrong("the off-by-one: a second partition, still one consumer",
              {**OFF, "commit.strategy": "per-batch", "partitions": 2},
              "the group must have 2 consumers", ("the task asks for consumers=2",)),
        Wrong("commit before processing in a group",
              {"partitions": 2, "consumers": 2, **OFF, "commit.strategy": "before-processing"},
              "a member that crashes after the commit loses the uncommitted batch",
              ("was lost", "before processing", "ran ahead of processing")),
        Wrong("the wrong client: librdkafka's defaults",
              {"partitions": 2, "consumers": 2, "client.model": "librdkafka"},
              "librdkafka's timer commits stored offsets mid-batch",
              ("was lost", "background auto-commit")),
    ],
    "handle_batch": [
        Wrong("commit first, then process", commit_first,
              "a crash after the commit loses the batch", ("covers message 0", "not processed yet")),
        Wrong("the off-by-one: commit the last offset", last_offset,
              "a committed offset is the next record to read: the last record is read again",
              ("committed offset is 11, not 12",)),
        Wrong("commit in finally (like close() on the way out)", commit_in_finally,
              "a failure mid-batch still commits past the unprocessed records",
              ("not processed yet", "crashed")),
        Wrong("commit the first record's offset", first_record_only,
              "the commit stays behind what was processed; the end is never committed",
              ("committed offset is",)),
        Wrong("never commit", no_commit, "nothing is ever committed: a restart re-reads all",
              ("committed offset is 0",)),
        Wrong("a wrong signature", two_arguments,
              "handle_batch is called with three arguments", ("TypeError", "of your code",
                                                             "handle_batch(records, process)")),
    ],
}
