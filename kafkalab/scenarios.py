"""Scenario presets: data, not code paths.

Each preset is a name, a title, a short story, a config (Kafka property names), a fault
plan and the expected outcome. ``variants`` are the same story with a few settings
changed (the notebooks put them side by side; the tests check every expectation).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .expect import check as expect_check
from .model import Config, ConfigError, FaultPlan, RunResult, simulate
from .model.config import closest_name
from .model.faults import describe as describe_fault

# Settings most presets share: the topic is written before the consumer starts, so what
# happens on the consumer side does not depend on producer timing.
_PREFILLED = {"producer.send.interval.ms": 0, "consumer.start.ms": 20,
              "auto.offset.reset": "earliest"}
# The presets whose lone consumer crashes and restarts are about offsets, not rebalances:
# static membership (group.instance.id, KIP-345) lets the restarted consumer take its
# partition back at once. Without it, as in a real group, the new member id waits
# session.timeout.ms (45 s) for the old one to expire (the consumer-group presets show it).
_STATIC = {"group.instance.id": "app"}

# The durability presets' cluster (issue 18): three brokers, every partition on all three.
_REPLICATED = {"brokers": 3, "replication.factor": 3, "messages": 60,
               "auto.offset.reset": "earliest"}


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    story: str
    config: Config
    faults: FaultPlan = field(default_factory=list)
    expect: dict = field(default_factory=dict)  # outcome key -> int, or ">0"
    variants: dict = field(default_factory=dict)  # name -> {"title", "config", "faults", "expect"}
    strategies: tuple = ()  # commit-cost: one run per commit.strategy
    seed: int = 0  # the seed a run uses unless told otherwise (scenario files set it)
    questions: tuple = ()  # to ask the room before running (scenario files)
    source: str | None = None  # a scenario file's text (links carry it inline)

    def variant(self, name: str) -> Scenario:
        if name not in self.variants:
            raise ConfigError(f"scenario {self.name!r} has no variant {name!r}; variants: "
                              f"{', '.join(self.variants) or 'none'}")
        v = self.variants[name]
        return Scenario(f"{self.name}/{name}", v.get("title", self.title), v.get("story",
                        self.story), {**self.config, **v.get("config", {})},
                        v.get("faults", self.faults), v.get("expect", {}), seed=self.seed,
                        questions=self.questions)


PRESETS: dict[str, Scenario] = {s.name: s for s in [
    Scenario(
        "at-most-once-auto-commit",
        "Auto-commit commits what was polled, not what was processed",
        "The example of the blog post \"Message Delivery Guarantees in Kafka\": auto-commit "
        "on, 10 records polled at once, processing fails "
        "at the 9th record. librdkafka stores each offset as poll() hands the message out, and "
        "its background timer commits the stored offsets during processing; the crash then "
        "loses the records after the failure. The Java client reaches the same loss when the "
        "exception escapes and close() commits the positions.",
        {**_PREFILLED, **_STATIC, "client.model": "librdkafka", "messages": 10,
         "enable.auto.commit": True, "auto.commit.interval.ms": 5, "processing.ms": 1,
         "max.poll.records": 10, "on.processing.error": "crash"},
        [{"type": "processing_failure", "message": 8}],
        {"lost": 2, "duplicates": 0},
        {"java-close-on-error": {
            "title": "Java client: the exception escapes and close() commits",
            "config": {"client.model": "java", "on.processing.error": "close",
                       "auto.commit.interval.ms": 5000},
            "expect": {"lost": 2, "duplicates": 0}},
         "java-skip-on-error": {
            "title": "Java client: the application catches the error and keeps polling",
            "config": {"client.model": "java", "on.processing.error": "skip",
                       "auto.commit.interval.ms": 5000},
            "expect": {"lost": 1, "duplicates": 0}},
         "java-crash": {
            "title": "Java client: a hard crash, no close()",
            "config": {"client.model": "java", "on.processing.error": "crash",
                       "auto.commit.interval.ms": 5000},
            "expect": {"lost": 0, "duplicates": 8}}},
    ),
    Scenario(
        "auto-commit-java-crash",
        "Java auto-commit survives a hard crash: re-delivery, not loss",
        "The myth-buster: the Java consumer commits inside poll(), before fetching, the "
        "positions of records handed out by previous polls. A crash in the middle of a batch "
        "therefore never commits that batch: the restarted consumer reads it again. "
        "At-least-once, as the KafkaConsumer javadoc says.",
        {**_PREFILLED, **_STATIC, "client.model": "java", "messages": 20,
         "enable.auto.commit": True,
         "auto.commit.interval.ms": 5, "max.poll.records": 10, "processing.ms": 1},
        [{"type": "consumer_crash", "point": "after_processing", "message": 14}],
        {"lost": 0, "duplicates": 5},
        {"librdkafka": {
            "title": "The same crash with librdkafka's background auto-commit",
            "config": {"client.model": "librdkafka"},
            "expect": {"lost": 5, "duplicates": 0}}},
    ),
    Scenario(
        "at-most-once-commit-first",
        "Commit first, process later: a crash loses, never duplicates",
        "At-most-once by design: the consumer commits the polled offsets with commitSync() "
        "before processing them. A crash mid-batch leaves the rest of the batch committed "
        "but unprocessed: lost.",
        {**_PREFILLED, **_STATIC, "messages": 10, "enable.auto.commit": False,
         "commit.strategy": "before-processing", "max.poll.records": 10},
        [{"type": "consumer_crash", "point": "after_processing", "message": 5}],
        {"lost": 4, "duplicates": 0},
    ),
    Scenario(
        "at-least-once-manual-commit",
        "Process first, commit after: a crash re-delivers, never loses",
        "At-least-once: auto-commit off, commitSync() of offset + 1 after each record is "
        "processed. A crash between processing a record and committing it means the restarted "
        "consumer reads that record again: a duplicate, never a loss.",
        {**_PREFILLED, **_STATIC, "messages": 10, "enable.auto.commit": False,
         "commit.strategy": "per-record", "max.poll.records": 10},
        [{"type": "consumer_crash", "point": "after_processing", "message": 5}],
        {"lost": 0, "duplicates": 1},
        {"per-batch": {
            "title": "Commit after each batch: a crash re-delivers the whole batch",
            "config": {"commit.strategy": "per-batch", "max.poll.records": 5},
            "expect": {"lost": 0, "duplicates": 1}}},
    ),
    Scenario(
        "commit-cost",
        "What a commit costs: throughput by commit strategy",
        "The same 2,000 records consumed with auto-commit, commitAsync per batch, commitSync "
        "per batch and commitSync per record. Each commit is a round trip to the group "
        "coordinator; committing per record makes throughput scale with 1/RTT.",
        {**_PREFILLED, "messages": 2000, "enable.auto.commit": False,
         "commit.strategy": "per-batch", "processing.ms": 0.2, "max.poll.records": 500,
         "network.rtt.ms": 2, "commit.write.ms": 1},
        [],
        {"lost": 0, "duplicates": 0},
        strategies=("auto", "async-per-batch", "per-batch", "per-record"),
    ),
    Scenario(
        "idempotent-producer-lost-ack",
        "A lost acknowledgement: retry, and the broker's deduplication",
        "The broker writes a batch but its response is lost, and with it the connection: "
        "responses come back in order, so the batches sent after it get no answer either. "
        "The producer cannot tell a lost request from a lost response; after "
        "request.timeout.ms it resends every batch that was in flight. With "
        "enable.idempotence=true each retry carries the same PID and sequence number: the "
        "broker recognises it, does not append it again and answers with the original "
        "offset. With idempotence off the log holds each of those batches twice.",
        {"messages": 10, "producer.send.interval.ms": 1, "linger.ms": 0,
         "enable.idempotence": True, "request.timeout.ms": 50, "retry.backoff.ms": 10,
         "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "commit.strategy": "per-batch"},
        [{"type": "lose_response", "message": 3}],
        {"log_duplicates": 0, "duplicates": 0, "lost": 0},
        {"idempotence-off": {
            "title": "enable.idempotence=false: the retries are written again",
            "config": {"enable.idempotence": False},
            "expect": {"log_duplicates": 5, "duplicates": 5, "lost": 0}}},
    ),
    Scenario(
        "producer-restart-new-pid",
        "A restarted idempotent producer gets a new PID: its resends are duplicates",
        "Idempotence holds within one producer session only. The producer writes message 4 "
        "but the acknowledgement is lost; before the retry, the application restarts and "
        "resends everything unacknowledged. The new instance has a new PID with sequence "
        "numbers from 0, so the broker cannot know that message 4 (and 5 and 6, whose "
        "acknowledgements were still on their way) are already in the log.",
        {"messages": 10, "producer.send.interval.ms": 1, "linger.ms": 0,
         "enable.idempotence": True, "request.timeout.ms": 1000,
         "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "commit.strategy": "per-batch"},
        [{"type": "lose_response", "message": 4},
         {"type": "producer_restart", "after_message": 6}],
        {"log_duplicates": 3, "duplicates": 3, "lost": 0},
    ),
    Scenario(
        "transactional-fencing",
        "transactional.id: same PID, bumped epoch, the zombie is fenced",
        "The same restart with a transactional.id. initTransactions() keeps the PID, bumps "
        "the epoch and aborts the old instance's open transaction; the old instance lives on "
        "as a zombie: its next write carries the old epoch and the broker fences it "
        "(InvalidProducerEpoch). A read_committed consumer sees every message exactly once.",
        {"messages": 10, "producer.send.interval.ms": 1, "linger.ms": 0,
         "transactional.id": "orders-app", "transaction.messages": 5,
         "request.timeout.ms": 1000, "isolation.level": "read_committed",
         "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "commit.strategy": "per-batch"},
        [{"type": "lose_response", "message": 6},
         {"type": "producer_restart", "after_message": 7, "zombie": True}],
        {"log_duplicates": 0, "duplicates": 0, "lost": 0},
        {"read-uncommitted": {
            "title": "The same log read with read_uncommitted",
            "config": {"isolation.level": "read_uncommitted"},
            "expect": {"lost": 0, "duplicates": ">0"}}},
    ),
    Scenario(
        "exactly-once-pipeline",
        "B = F(A): consume-transform-produce with transactions",
        "The transform reads A, writes F(record) to B and puts its input offsets in the same "
        "transaction (sendOffsetsToTransaction). It crashes at random points; each crash "
        "aborts the open transaction and the restarted transform re-reads from the last "
        "committed offsets. A read_committed reader of B sees every record exactly once.",
        {**_PREFILLED, **_STATIC, "messages": 50, "pipeline": True,
         "transactional.id": "transform-1",
         "linger.ms": 0,
         "commit.strategy": "transaction", "enable.auto.commit": False,
         "isolation.level": "read_committed", "max.poll.records": 10},
        [{"type": "random", "consumer_crash": 0.05}],
        {"lost": 0, "duplicates": 0},
        {"read-uncommitted": {
            "title": "The reader uses read_uncommitted: aborted output leaks through",
            "config": {"isolation.level": "read_uncommitted"},
            "expect": {"lost": 0, "duplicates": ">0"}}},
    ),
    Scenario(
        "read-committed-vs-uncommitted",
        "An aborted and an open transaction, seen by both isolation levels",
        "A transactional producer commits messages 0–4, then dies with 5–7 written in an open "
        "transaction. While that transaction is open, read_committed readers stop at the last "
        "stable offset; when the restarted producer aborts it, they skip the aborted records "
        "and the abort marker. read_uncommitted readers see the aborted records at once.",
        {"messages": 10, "producer.send.interval.ms": 1, "linger.ms": 0,
         "transactional.id": "ledger-app", "transaction.messages": 5,
         "restart.delay.ms": 200, "isolation.level": "read_committed",
         "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "commit.strategy": "per-batch"},
        [{"type": "producer_restart", "after_message": 7}],
        {"lost": 0, "duplicates": 0, "aborted_copies": 3},
        {"read-uncommitted": {
            "title": "read_uncommitted: the aborted records are processed too",
            "config": {"isolation.level": "read_uncommitted"},
            "expect": {"lost": 0, "duplicates": 3, "aborted_copies": 3}}},
    ),
    # -- durability (issue 18): replicas, the ISR, acks and leader failover ------------------
    Scenario(
        "acks-0-fire-and-forget",
        "acks=0: the producer never knows what the cluster lost",
        "Three brokers, every partition on all three. The producer sends with acks=0: no "
        "response, no retries, the offset unknown. Broker 0, the leader, crashes at t=40 ms: "
        "what it had not yet replicated is gone after the failover, and what the producer sends "
        "to it while it is down goes nowhere. The producer counted every message as sent.",
        {**_REPLICATED, "producer.send.interval.ms": 1, "replica.rtt.ms": 20, "acks": "0",
         "enable.idempotence": False},
        [{"type": "broker_crash", "broker": 0, "at_ms": 40, "restart_after_ms": 5000}],
        {"lost": ">0", "lost_after_ack": 0, "lost_unacked": "==lost", "duplicates": 0},
        {"acks-1": {
            "title": "acks=1: the producer is told, and the failover still loses them",
            "config": {"acks": "1"},
            "expect": {"lost": ">0", "lost_after_ack": "==lost", "duplicates": 0}}},
    ),
    Scenario(
        "acks-1-leader-failover",
        "acks=1 loses acknowledged writes when the leader fails over",
        "acks=1: the leader answers after its own append, before any follower has the records. "
        "The followers fetch every 20 ms; the leader (broker 0) crashes at t=40 ms and comes "
        "back 5 s later; the controller, seeing it register again, fences it and elects broker "
        "1 from the ISR, which lacks the last few acknowledged records. Broker 0 then truncates "
        "them to follow the new leader's epoch (KIP-101/279), not to its own high watermark. "
        "The producer was told they were written: lost after they were acknowledged.",
        {**_REPLICATED, "producer.send.interval.ms": 1, "replica.rtt.ms": 20, "acks": "1",
         "enable.idempotence": False},
        [{"type": "broker_crash", "broker": 0, "at_ms": 40, "restart_after_ms": 5000}],
        {"lost_after_ack": ">0", "lost": "==lost_after_ack", "duplicates": 0},
        {"acks-all": {
            "title": "acks=all: the same crash loses nothing acknowledged",
            "config": {"acks": "all", "enable.idempotence": True},
            "expect": {"lost": 0, "lost_after_ack": 0, "duplicates": 0}}},
    ),
    Scenario(
        "acks-all-min-isr",
        "acks=all with min.insync.replicas=2: the same failover loses nothing acknowledged",
        "The failure of acks-1-leader-failover with acks=all and min.insync.replicas=2 (the "
        "advice: replication.factor=3, min.insync.replicas=2, acks=all). The records broker 0 "
        "had not replicated were never acknowledged; the new leader lacks them, broker 0 "
        "truncates them when it returns, and the idempotent producer sends them again.",
        {**_REPLICATED, "producer.send.interval.ms": 1, "replica.rtt.ms": 20, "acks": "all",
         "min.insync.replicas": 2},
        [{"type": "broker_crash", "broker": 0, "at_ms": 40, "restart_after_ms": 5000}],
        {"lost": 0, "lost_after_ack": 0, "duplicates": 0, "truncated": ">0"},
    ),
    Scenario(
        "acks-all-isr-shrunk",
        "acks=all covers only the current ISR: it shrank to the leader, whose machine then fails",
        "Brokers 1 and 2 are cut off from the leader from the start; after "
        "replica.lag.time.max.ms they leave the ISR, and with min.insync.replicas=1 acks=all "
        "now means the leader alone. At t=25 s broker 0's machine fails: Kafka does not fsync "
        "each write (log.flush.interval.messages: never), so its unflushed log is gone. It "
        "comes back 2 s later, the only ISR member, and leads again with an empty log: every "
        "acknowledged write is lost. The consumer starts after it is back.",
        {**_REPLICATED, "producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10000,
         "acks": "all", "consumer.start.ms": 28000},
        [{"type": "slow_follower", "broker": 1, "at_ms": 0, "for_ms": 60000},
         {"type": "slow_follower", "broker": 2, "at_ms": 0, "for_ms": 60000},
         {"type": "machine_failure", "broker": 0, "at_ms": 25000, "restart_after_ms": 2000}],
        {"lost_after_ack": ">0", "lost": "==lost_after_ack", "duplicates": 0},
        {"min-isr-2": {
            "title": "min.insync.replicas=2: the same writes are refused instead",
            "config": {"min.insync.replicas": 2},
            "expect": {"lost": 0, "lost_after_ack": 0, "duplicates": 0}},
         "flush-every-message": {
            "title": "log.flush.interval.messages=1: an fsync per write survives the machine",
            "config": {"log.flush.interval.messages": 1},
            "expect": {"lost": 0, "lost_after_ack": 0, "duplicates": 0}}},
    ),
    Scenario(
        "unclean-leader-election",
        "unclean.leader.election.enable=true: an out-of-sync replica leads and committed data "
        "is gone",
        "Brokers 1 and 2 are cut off for 25 s and leave the ISR; the leader, broker 0, crashes "
        "just before they reconnect. Only broker 0 is in the ISR, and it is down. With unclean "
        "leader election enabled the controller makes broker 1 the leader anyway: what it "
        "never fetched, acknowledged with acks=all, is lost. (The consumer starts after the "
        "election.)",
        {**_REPLICATED, "producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10000,
         "acks": "all", "enable.idempotence": False, "consumer.start.ms": 34000,
         "unclean.leader.election.enable": True},
        [{"type": "slow_follower", "broker": 1, "at_ms": 1000, "for_ms": 25000},
         {"type": "slow_follower", "broker": 2, "at_ms": 1000, "for_ms": 25000},
         {"type": "broker_crash", "broker": 0, "at_ms": 24000, "restart_after_ms": 36000}],
        {"lost_after_ack": ">0", "lost": "==lost_after_ack", "duplicates": 0},
        {"clean-only": {
            "title": "unclean.leader.election.enable=false: offline until broker 0 returns, "
                     "nothing lost",
            "config": {"unclean.leader.election.enable": False},
            "expect": {"lost": 0, "lost_after_ack": 0, "duplicates": 0}}},
    ),
    Scenario(
        "not-enough-replicas",
        "min.insync.replicas=2: writes refused while the ISR is the leader alone, then accepted",
        "Both followers are cut off from t=0 to t=50 s and leave the ISR after "
        "replica.lag.time.max.ms. With acks=all and min.insync.replicas=2 the leader refuses "
        "new writes with NOT_ENOUGH_REPLICAS (retriable, nothing written) and its high "
        "watermark stands still; the producer retries until the followers are back in the ISR, "
        "and then everything is written once.",
        {**_REPLICATED, "producer.send.interval.ms": 500, "replica.lag.time.max.ms": 10000,
         "acks": "all", "min.insync.replicas": 2},
        [{"type": "slow_follower", "broker": 1, "at_ms": 0, "for_ms": 50000},
         {"type": "slow_follower", "broker": 2, "at_ms": 0, "for_ms": 50000}],
        {"lost": 0, "lost_after_ack": 0, "duplicates": 0, "written_more_than_once": 0},
    ),
    # -- consumer groups and rebalances (issue 17, fact sheet G) ---------------------------
    Scenario(
        "rebalance-duplicates",
        "A member crashes: its partition's new owner re-reads from the committed offset",
        "Two members share two partitions under a steady load, Java auto-commit every 100 ms. "
        "consumer-0 is killed at t=150 ms. Nobody reads partition 0 until the coordinator "
        "notices: session.timeout.ms (45 s) after its last heartbeat. The restarted process is "
        "a new member (a new member id), and its join has to wait for the old id to expire "
        "too. Then the rebalance hands partition 0 over at the committed offset: everything "
        "consumer-0 processed since its last auto-commit is processed again.",
        {"messages": 300, "partitions": 2, "consumers": 2, "producer.send.interval.ms": 1,
         "linger.ms": 0, "auto.offset.reset": "earliest", "processing.ms": 1,
         "max.poll.records": 20, "auto.commit.interval.ms": 100},
        [{"type": "consumer_crash", "point": "time", "at_ms": 150, "member": 0}],
        {"lost": 0, "duplicates": 22, "zombie_records": 0},
        {"static": {
            "title": "The same crash with static membership (group.instance.id)",
            "story": "The restarted consumer-0 comes back with its group.instance.id within "
                     "the session timeout: it gets partition 0 back without a rebalance. The "
                     "duplicates stay: static membership saves the rebalance, not the "
                     "uncommitted work.",
            "config": {"group.instance.id": "app"},
            "expect": {"lost": 0, "duplicates": 22}},
         "per-batch": {
            "title": "commitSync() after each batch",
            "config": {"enable.auto.commit": False, "commit.strategy": "per-batch"},
            "expect": {"lost": 0, "duplicates": 0}}},
    ),
    Scenario(
        "eager-vs-cooperative",
        "Scale out by one member under load: what stops, what moves",
        "Two members read four partitions; at t=1 s a third member joins. With the Java "
        "default partition.assignment.strategy (range first: eager), every member hears of "
        "the rebalance at its next heartbeat, auto-commits, revokes all its partitions and "
        "rejoins; nothing is processed until the last one has rejoined, then range deals the "
        "partitions out afresh. With cooperative-sticky (KIP-429) members keep their "
        "partitions through the first rebalance; the one partition that moves is revoked "
        "after it (without an auto-commit) and a second rebalance gives it to the new member: "
        "what its old owner processed since its last commit is processed again.",
        {"messages": 600, "partitions": 4, "consumers": 2, "producer.send.interval.ms": 10,
         "linger.ms": 0, "auto.offset.reset": "earliest", "processing.ms": 1},
        [{"type": "member_join", "at_ms": 1000}],
        {"lost": 0, "duplicates": 0, "rebalances": 3},
        {"cooperative": {
            "title": "partition.assignment.strategy=cooperative-sticky",
            "config": {"partition.assignment.strategy": "cooperative-sticky"},
            "expect": {"lost": 0, "duplicates": ">0", "rebalances": 5}},
         "cooperative-librdkafka": {
            "title": "cooperative-sticky with librdkafka: auto-commit covers revoked partitions",
            "config": {"client.model": "librdkafka",
                       "partition.assignment.strategy": "cooperative-sticky"},
            "expect": {"lost": 0, "duplicates": 0}}},
        seed=2,
    ),
    Scenario(
        "static-membership",
        "A rolling restart with and without group.instance.id",
        "Three members, three partitions; each member restarts in turn (a deploy), away for "
        "500 ms. Without static membership each restart is two rebalances (its LeaveGroup, "
        "then its join under a new member id), and every member stops for each. With "
        "group.instance.id (KIP-345) the member sends no LeaveGroup and comes back within "
        "session.timeout.ms with the same assignment: no rebalance; its partitions simply "
        "wait for it.",
        {"messages": 600, "partitions": 3, "consumers": 3, "producer.send.interval.ms": 10,
         "linger.ms": 0, "auto.offset.reset": "earliest", "processing.ms": 1,
         "restart.delay.ms": 500},
        [{"type": "member_restart", "member": 0, "at_ms": 1000},
         {"type": "member_restart", "member": 1, "at_ms": 3000},
         {"type": "member_restart", "member": 2, "at_ms": 5000}],
        {"lost": 0, "duplicates": 0, "rebalances": 6},
        {"static": {
            "title": "group.instance.id set: no rebalance",
            "config": {"group.instance.id": "app"},
            "expect": {"lost": 0, "duplicates": 0, "rebalances": 2}}},
    ),
    Scenario(
        "max-poll-interval-exceeded",
        "A slow record kicks the member out; its commit fails; the new owner re-processes",
        "Processing message 100 takes 7 s longer, beyond max.poll.interval.ms (5 s). "
        "consumer-0's heartbeat thread sends LeaveGroup (librdkafka: ERR__MAX_POLL_EXCEEDED); "
        "the rebalance gives partition 0 to consumer-1 at the committed offset, which "
        "processes the batch again while consumer-0, a zombie, still finishes it: Fetch "
        "carries no generation, only the commit is fenced. consumer-0's commitSync() then "
        "fails with CommitFailedException (UNKNOWN_MEMBER_ID) and the process dies.",
        {"messages": 2000, "partitions": 2, "consumers": 2, "producer.send.interval.ms": 4,
         "linger.ms": 0, "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "commit.strategy": "per-batch", "max.poll.records": 10,
         "max.poll.interval.ms": 5000, "processing.ms": 10},
        [{"type": "slow_processing", "message": 100, "extra_ms": 7000}],
        {"lost": 0, "duplicates": 10, "zombie_records": 10},
    ),
    Scenario(
        "commit-on-revoke",
        "Commit in the rebalance listener: fewer duplicates, and which remain",
        "Cooperative rebalancing, Java auto-commit every second: a member joins at t=1 s and "
        "consumer-0 crashes at t=4.5 s. The application commits its processed offsets in "
        "onPartitionsRevoked (commit.on.revoke), so the partition that moves to the new member "
        "is handed over at the right offset. The crash still duplicates: a killed process "
        "runs no listener, and what it processed since its last commit is read again.",
        {"messages": 600, "partitions": 4, "consumers": 2, "producer.send.interval.ms": 10,
         "linger.ms": 0, "auto.offset.reset": "earliest", "processing.ms": 1,
         "partition.assignment.strategy": "cooperative-sticky",
         "auto.commit.interval.ms": 1000, "commit.on.revoke": True},
        [{"type": "member_join", "at_ms": 1000},
         {"type": "consumer_crash", "point": "time", "at_ms": 4500, "member": 0}],
        {"lost": 0, "duplicates": 17},
        {"no-listener": {
            "title": "Without the listener's commit",
            "config": {"commit.on.revoke": False},
            "expect": {"lost": 0, "duplicates": 63}}},
        seed=2,
    ),
]}


def get(name: str) -> Scenario:
    """A preset, ``preset/variant``, a loaded scenario file's name, or a scenario file's path
    (``lesson.json``, ``lesson.toml``, ``lesson.json/variant``: see kafkalab.scenario_files)."""
    from . import scenario_files

    as_file = scenario_files.split_file_name(name)
    if as_file is not None:
        scenario = scenario_files.load(as_file[0])
        return scenario.variant(as_file[1]) if as_file[1] is not None else scenario
    base, slash, variant = name.partition("/")
    if base not in PRESETS and base in scenario_files.REGISTRY:
        scenario = scenario_files.REGISTRY[base]
        return scenario.variant(variant) if slash else scenario
    if base not in PRESETS:
        hint = closest_name(base, PRESETS)
        raise ConfigError(f"Unknown scenario {base!r}" + (f"; did you mean {hint!r}?" if hint
                                                          else f"; one of: {', '.join(PRESETS)}"))
    scenario = PRESETS[base]
    # "name/" names a variant too (an empty one): refused, never silently the base preset
    return scenario.variant(variant) if slash else scenario


def run(name: str, seed: int | None = None, messages: int | None = None,
        overrides: Config | None = None, faults: FaultPlan | None = None,
        snapshots: bool = True, measure: bool = True) -> RunResult:
    """Run a preset (``name`` or ``name/variant``, or a scenario file) with optional config
    overrides; ``seed`` defaults to the scenario's (0 for every preset). ``measure=False``
    leaves out the extra runs a preset measures (commit-cost's throughput per strategy), as the
    Lab does."""
    scenario = get(name)
    seed = scenario.seed if seed is None else seed
    config = copy.deepcopy(scenario.config)
    if messages is not None:
        config["messages"] = messages
    config.update(overrides or {})
    plan = copy.deepcopy(scenario.faults if faults is None else faults)
    notes = []
    if messages is not None and faults is None:
        # The preset's faults name messages; with fewer messages some no longer exist.
        kept = [f for f in plan if f.get("message", f.get("after_message", -1)) < messages]
        notes = [f"fault dropped: {describe_fault(f)} (this run sends only {messages} "
                 "messages)" for f in plan if f not in kept]
        plan = kept
    result = simulate(config, plan, seed, snapshots=snapshots, scenario=scenario.name)
    result.notes.extend(notes)
    if scenario.strategies and measure:
        # measured with one run per strategy: part of the outcome, not written into it
        result.measured["throughput_by_strategy"] = throughput_by_strategy(
            scenario, config, plan, seed)
    return result


# the commit strategies compared when a preset names none (commit-cost names its own)
COMMIT_STRATEGIES = ("auto", "async-per-batch", "per-batch", "per-record")


def _strategy_runs(scenario: Scenario, config: Config, faults: FaultPlan,
                   seed: int) -> dict[str, RunResult]:
    out = {}
    for strategy in scenario.strategies or COMMIT_STRATEGIES:
        cfg = {**config, "commit.strategy": strategy,
               "enable.auto.commit": strategy == "auto"}
        out[strategy] = simulate(cfg, copy.deepcopy(faults), seed, snapshots=False,
                                 scenario=scenario.name)
    return out


def run_commit_strategies(name: str = "commit-cost", seed: int = 0, messages: int | None = None,
                          faults: FaultPlan | None = None) -> dict[str, RunResult]:
    """Run a preset once per commit strategy: {strategy: RunResult} (the input of
    ``kafkalab.viz.commit_cost_chart``)."""
    scenario = get(name)
    config = copy.deepcopy(scenario.config)
    if messages is not None:
        config["messages"] = messages
    return _strategy_runs(scenario, config, scenario.faults if faults is None else faults, seed)


def throughput_by_strategy(scenario: Scenario, config: Config, faults: FaultPlan,
                           seed: int) -> dict[str, float]:
    """{strategy: simulated throughput (records/s)}: the one throughput-per-strategy
    function (``scenarios.run`` puts it in commit-cost's outcome)."""
    return {strategy: r.outcome["throughput_per_s"]
            for strategy, r in _strategy_runs(scenario, config, faults, seed).items()}


def check_expectation(outcome: dict, expect: dict) -> list[str]:
    """Differences between an outcome and a preset's expectation (empty when it holds), in
    the one expectation language presets and real workloads share (``kafkalab.expect``)."""
    return expect_check(outcome, expect)
