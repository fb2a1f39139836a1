"""Wrong answers the checks of 06_producer_restart_and_transactions_exercises.ipynb must reject."""

from kafkalab.checks import Wrong

MISCONCEPTIONS = {
    "restart_config": [
        Wrong("the myth: idempotence survives a restart", {},
              "the new instance gets a new producer id: its resends look new to the broker",
              ("processed 2 times", "restarts", "new producer id")),
        Wrong("read_committed alone", {"isolation.level": "read_committed"},
              "without a transactional.id there are no transactions to commit or abort",
              ("processed 2 times", "new producer id")),
        Wrong("a transactional.id with the Java consumer's default isolation",
              {"transactional.id": "orders-app"},
              "read_uncommitted reads the aborted copies too",
              ("processed 2 times", "aborted transaction")),
        Wrong("transactions without idempotence",
              {"transactional.id": "orders-app", "enable.idempotence": False,
               "isolation.level": "read_committed"},
              "Kafka refuses a transactional.id without idempotence",
              ("Cannot set a transactional.id without also enabling idempotence",)),
    ],
    "restart_librdkafka": [
        Wrong("the myth: librdkafka's defaults survive a restart", {},
              "no idempotence, no transactions: the resend is a second copy",
              ("processed 2 times", "restarts")),
        Wrong("idempotence alone", {"enable.idempotence": True},
              "a restarted producer gets a new producer id", ("processed 2 times", "new producer id")),
        Wrong("the wrong client's default isolation",
              {"transactional.id": "orders-app", "isolation.level": "read_uncommitted"},
              "read_uncommitted (Java's default) reads the aborted copies",
              ("processed 2 times", "aborted transaction")),
        Wrong("the constraint dodge: setting what the defaults give",
              {"transactional.id": "orders-app", "isolation.level": "read_committed"},
              "the task asks to set only what librdkafka's defaults do not already give",
              ("only what the librdkafka defaults do not already give", "isolation.level")),
    ],
}
