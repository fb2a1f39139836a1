"""Wrong answers the checks of 05_idempotent_producer_exercises.ipynb must reject."""

from kafkalab.checks import Wrong

MIF = "max.in.flight.requests.per.connection"

MISCONCEPTIONS = {
    "producer_config": [
        Wrong("the myth: the client's defaults already de-duplicate", {},
              "librdkafka's default is enable.idempotence=false: a retry writes a second copy",
              ("in the log 2 times", "response", "is lost")),
        Wrong("the myth: acks=all prevents duplicates", {"acks": "all"},
              "acks=all is about durability; the retry of a lost response is still a new write",
              ("in the log 2 times", "response")),
        Wrong("one request in flight", {MIF: 1},
              "ordering is not de-duplication: the retry is still written again",
              ("in the log 2 times",)),
        Wrong("no retries, no duplicates", {"retries": 0},
              "without retries a lost request loses the message", ("was lost", "never reaches")),
        Wrong("idempotence with acks=1", {"enable.idempotence": True, "acks": "1"},
              "Kafka refuses it", ("Kafka would refuse", "acks")),
    ],
    "fixed_config": [
        Wrong("the colleague's tweak", {MIF: 10},
              "more than idempotence allows: switched off, or fewer than the task asks",
              ("the task asks for max.in.flight.requests.per.connection",)),
        Wrong("the off-by-one: one more than allowed", {MIF: 6},
              "6 batches cannot all be remembered by the broker",
              ("as many as idempotence allows",)),
        Wrong("the constraint dodge: one request in flight", {MIF: 1},
              "safe, but far fewer in flight than idempotence allows",
              ("as many as idempotence allows", "fewer than that")),
        Wrong("forcing idempotence on with 10 in flight", {MIF: 10, "enable.idempotence": True},
              "Kafka refuses the combination", ("Kafka would refuse", MIF)),
        Wrong("idempotence switched off by hand", {MIF: 5, "enable.idempotence": False},
              "with idempotence off the retry writes a second copy",
              ("in the log 2 times", "response")),
    ],
    "durable_config": [
        Wrong("acks=1", {"acks": "1"},
              "idempotence needs acks=all: Kafka switches it off silently, and a retry duplicates",
              ("in the log 2 times", "switched it off silently")),
        Wrong("acks=0", {"acks": "0"},
              "nobody notices a lost request", ("was lost", "never reaches the broker")),
        Wrong("acks=1 with idempotence forced on", {"acks": "1", "enable.idempotence": True},
              "Kafka refuses it", ("Kafka would refuse", "acks")),
        Wrong("the constraint dodge: acks left to the default", {"enable.idempotence": True},
              "the task asks for acks to be set explicitly", ("acks to be set explicitly",)),
        Wrong("acks=all without idempotence", {"acks": "all", "enable.idempotence": False},
              "durable, but a retry writes a second copy", ("in the log 2 times",)),
    ],
}
