"""Wrong answers the checks of 04b_durability_exercises.ipynb must reject.

Facts: /work/shared/reference/kafka-semantics.md §F (acks=1 loses acknowledged writes with a
clean election; acks=all covers only the current ISR; min.insync.replicas gates only acks=all;
acks=0 knows no offset)."""

from kafkalab.checks import Wrong

FLUSH = "log.flush.interval.messages"

MISCONCEPTIONS = {
    "durable_config": [
        Wrong("the myth: acks=all alone guarantees durability", {"acks": "all"},
              "acks=all waits for the current ISR only; once it has shrunk to the leader, a "
              "machine failure takes the acknowledged writes with it",
              ("lost after it was acknowledged", "loses its machine", "ISR [0]")),
        Wrong("the myth: acks=1 loses only unacknowledged messages", {"acks": "1"},
              "the leader acknowledges after its own append; a clean election from the ISR "
              "picks a follower that had not fetched it yet",
              ("lost after it was acknowledged", "acks=1")),
        Wrong("acks=0", {"acks": "0"},
              "no response, no retry: what the failover takes is lost and nobody knows",
              ("was lost", "never acknowledged")),
        Wrong("min.insync.replicas protects acks=1", {"acks": "1", "min.insync.replicas": 2},
              "min.insync.replicas gates only acks=all writes",
              ("lost after it was acknowledged", "acks=1")),
        Wrong("the constraint dodge: an fsync per write", {"acks": "all", FLUSH: 1},
              "it survives this machine failure, but the task asks for durability from "
              "replication", ("the task asks for log.flush.interval.messages",)),
    ],
    "acknowledged_but_lost": [
        Wrong("a truncated copy means a lost message",
              lambda run: [m.id for m in run.ledger.messages if m.truncated],
              "with acks=all a truncated record was never acknowledged and was sent again",
              ("is in the log and was processed", "truncated")),
        Wrong("the myth: every lost message had been acknowledged",
              lambda run: run.ledger.lost(),
              "with acks=0 nothing is acknowledged with an offset",
              ("never acknowledged",)),
        Wrong("an acks=0 callback is an acknowledgement",
              lambda run: [m.id for m in run.ledger.messages if m.acked and not m.processed],
              "acks=0's callback fires without the broker's answer, offset -1",
              ("acks=0", "callback")),
        Wrong("the myth: acknowledged means safe", lambda run: [],
              "acks=1 loses acknowledged writes when the leader fails over",
              ("lost after it was acknowledged",)),
    ],
}
