"""Wrong answers the checks of 07_exactly_once_pipeline_exercises.ipynb must reject."""

from kafkalab.checks import Wrong

EOS = {"transactional.id": "transform-1", "commit.strategy": "transaction",
       "enable.auto.commit": False}


def naive(db, message_id, value):
    db["balance"] += value


SEEN = set()


def outside_db(db, message_id, value):
    if message_id not in SEEN:
        SEEN.add(message_id)
        db["balance"] += value


def last_id_only(db, message_id, value):
    if db.get("last") != message_id:
        db["last"] = message_id
        db["balance"] += value


def two_arguments(db, message_id):
    db["balance"] += 1


MISCONCEPTIONS = {
    "eos_config": [
        Wrong("a transactional producer, offsets committed by hand",
              {"transactional.id": "transform-1", "commit.strategy": "per-batch",
               "enable.auto.commit": False, "isolation.level": "read_committed"},
              "the producer's transaction is never committed: the LSO never moves and "
              "read_committed readers see nothing",
              ("never committed", "last stable offset never moved", "read_committed reader")),
        Wrong("the wrong client's default isolation: Java reads uncommitted", dict(EOS),
              "read_uncommitted reads the output of aborted transactions",
              ("processed 2 times", "aborted transaction")),
        Wrong("at-least-once with read_committed",
              {"enable.auto.commit": False, "commit.strategy": "per-batch",
               "isolation.level": "read_committed"},
              "no transaction: a crash re-writes the output", ("processed 2 times",)),
        Wrong("transactions with auto-commit left on",
              {"transactional.id": "transform-1", "commit.strategy": "transaction",
               "isolation.level": "read_committed"},
              "offsets committed outside the transaction", ("must not auto-commit",)),
    ],
    "eos_librdkafka": [
        Wrong("the constraint dodge: setting librdkafka's default isolation",
              {**EOS, "isolation.level": "read_committed"},
              "the task asks to set only what the defaults do not give",
              ("only what the librdkafka defaults do not already give", "isolation.level")),
        Wrong("setting idempotence that the transactional.id already implies",
              {**EOS, "enable.idempotence": True},
              "librdkafka enables idempotence itself for a transactional.id",
              ("only what the librdkafka defaults do not already give", "enable.idempotence")),
        Wrong("the wrong client's isolation", {**EOS, "isolation.level": "read_uncommitted"},
              "read_uncommitted reads aborted output", ("processed 2 times", "aborted transaction")),
        Wrong("transactions with librdkafka's auto-commit on",
              {"transactional.id": "transform-1", "commit.strategy": "transaction"},
              "librdkafka auto-commits by default", ("must not auto-commit",)),
        Wrong("at-least-once", {"enable.auto.commit": False, "commit.strategy": "per-batch"},
              "no transaction: a crash re-writes the output", ("processed 2 times",)),
    ],
    "apply": [
        Wrong("the myth: at-least-once delivery is enough", naive,
              "every re-delivery adds the deposit again", ("delivered again", "should have stayed")),
        Wrong("the applied ids kept outside db", outside_db,
              "state outside db survives from one run to the next (and from the database)",
              ("first delivery", "outside `db`")),
        Wrong("the off-by-one memory: only the last id", last_id_only,
              "a re-delivered batch repeats more than the last message",
              ("delivered again", "should have stayed")),
        Wrong("a wrong signature", two_arguments, "apply is called with three arguments",
              ("TypeError", "of your code", "apply(db, message_id)")),
    ],
    "effectively_once": [
        Wrong("at-least-once without the idempotent sink",
              {"enable.auto.commit": False, "commit.strategy": "per-batch"},
              "re-deliveries are applied twice", ("processed 2 times",)),
        Wrong("an idempotent sink behind a commit-first consumer",
              {"enable.auto.commit": False, "commit.strategy": "before-processing",
               "sink.idempotent": True},
              "the sink cannot apply what is never re-delivered", ("was lost", "before processing")),
        Wrong("the off-by-one: commit per record instead of an idempotent sink",
              {"enable.auto.commit": False, "commit.strategy": "per-record"},
              "a crash between processing a record and committing it still re-delivers it",
              ("processed 2 times",)),
        Wrong("the wrong client: librdkafka's auto-commit with an idempotent sink",
              {"client.model": "librdkafka", "sink.idempotent": True},
              "the timer commits stored offsets mid-batch", ("was lost", "background auto-commit")),
    ],
}
