"""The producer client, and the producer application that feeds it.

The client batches records per partition (``linger.ms``, ``batch.size``), keeps at most
``max.in.flight.requests.per.connection`` requests outstanding, retries a request whose
response did not arrive within ``request.timeout.ms`` (it cannot tell a lost request from
a lost response: that ambiguity is where duplicates come from), gives up after
``delivery.timeout.ms``, and with idempotence stamps each batch with PID, epoch and a
per-partition sequence number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import simpy

from .broker import ProduceResult
from .faults import Fault, FaultError
from .types import Steps

if TYPE_CHECKING:
    from .simulation import ProduceFate, Simulation

SMALL_RUN = 2000  # messages; above this the application hands messages over in chunks


@dataclass(slots=True)
class ProducerBatch:
    topic: str
    partition: int
    messages: list[int]
    created: float
    base_seq: int = -1
    attempts: int = 0
    live_attempt: int = 0  # the attempt whose response we still wait for (0: none)
    connection: int = 0  # which connection the live attempt went out on
    not_before: float = 0.0
    done: bool = False
    seq_reset: bool = False  # its sequence was rewritten by an epoch bump after it was sent
    broker: int = -1  # replication: the leader the live attempt was sent to (from metadata)
    uncounted: int = 0  # retries that do not count against `retries` (librdkafka, see _retry)


@dataclass
class _Accumulator:
    messages: list[int] = field(default_factory=list)
    first_arrival: float = 0.0


class ProducerClient:
    """One producer instance (a process's KafkaProducer)."""

    def __init__(self, sim: Simulation, name: str, txn_id: str | None = None,
                 on_ack: Callable[[ProducerBatch, int], None] | None = None,
                 on_fail: Callable[[ProducerBatch], None] | None = None,
                 error_faults: dict[tuple[int, int], str] | None = None) -> None:
        self.sim = sim
        self.env = sim.env
        self.name = name
        c = sim.config
        self.txn_id = txn_id
        self.idempotent = c["enable.idempotence"]
        self.acks = c["acks"]
        self.max_in_flight = c["max.in.flight.requests.per.connection"]
        self.linger = c["linger.ms"]
        self.per_batch = max(1, c["batch.size"] // c["message.bytes"])
        self.on_ack = on_ack or (lambda batch, offset: None)
        self.on_fail = on_fail or (lambda batch: None)
        self.pid, self.epoch = -1, -1
        self.next_seq: dict[tuple[str, int], int] = {}
        # Resolving a sequence gap after a batch expired (KIP-360): the last acknowledged
        # sequence per partition, the partitions whose gap is not resolved yet (-> the next
        # sequence after the expired batch), and whether an epoch bump is waiting for the
        # requests in flight to drain.
        self.last_acked: dict[tuple[str, int], int] = {}
        self.unresolved: dict[tuple[str, int], int] = {}
        self.bump_pending = False
        self.java = sim.config["client.model"] != "librdkafka"
        self.accumulators: dict[tuple[str, int], _Accumulator] = {}
        self.ready: list[ProducerBatch] = []
        # Idempotence: per partition, batches sent and not yet done, oldest first. At most
        # max.in.flight of them, so a retry is still among the broker's 5 cached batches.
        self.window: dict[tuple[str, int], list[ProducerBatch]] = {}
        self.in_flight = 0
        self.in_flight_batches: list[ProducerBatch] = []
        # Responses on one connection come back in order (the broker answers a connection's
        # requests in the order it read them): a delayed response holds back every later one
        # on that connection, a lost one holds them back for good. When a request times out,
        # the client closes the connection, so every request in flight on it fails and is
        # retried on a new one (Java NetworkClient.handleTimedOutRequests; librdkafka
        # disconnects after socket.max.fails=1 timeout).
        self.connection = 0
        self.response_free_at: dict[int, float] = {}  # connection -> last response's time
        # A request that never reaches the broker means the connection broke: the broker reads
        # a connection's requests in order, so none sent after it on that connection arrives.
        self.broken_connections: set[int] = set()
        # error_response faults: (message, attempt) -> error (shared by the application's
        # producer instances, so each fires once)
        self.error_faults = error_faults if error_faults is not None else {}
        self.unfinished = 0  # batches created and not yet acked or failed
        self.alive = True
        self.fenced = False
        self.flushing = False
        self.txn_partitions: set[tuple[str, int]] = set()
        self._wake = self.env.event()
        self._idle = self.env.event()
        self.env.process(self._sender())

    # -- life cycle ----------------------------------------------------------------------
    def init(self) -> Steps[None]:
        """InitProducerId (idempotent) or initTransactions (transactional); a generator."""
        if not self.idempotent:
            return
        yield self.env.timeout(self.sim.net.rtt + (self.sim.config["transaction.overhead.ms"]
                                                   if self.txn_id else 0))
        if self.txn_id:
            state, markers = self.sim.txn_coordinator.init_producer_id(self.txn_id, self.env.now)
            self.pid, self.epoch = state.pid, state.epoch
            self.sim.record_markers(markers, reason=f"{self.name} called initTransactions: the "
                                    "previous instance's open transaction is aborted")
            self.sim.trace.emit(
                "init_producer", self.name,
                f"{self.name} initTransactions: transactional.id {self.txn_id!r} "
                + (f"gets PID {self.pid}, epoch 0" if self.epoch == 0 else
                   f"keeps PID {self.pid}, epoch bumped to {self.epoch}"),
                pid=self.pid, epoch=self.epoch,
                transactional_id=self.txn_id)
        else:
            self.pid, self.epoch = self.sim.broker.new_pid(), 0
            self.sim.trace.emit("init_producer", self.name,
                                f"{self.name} got a new producer id: PID {self.pid}, epoch 0",
                                pid=self.pid, epoch=0, transactional_id=None)

    def kill(self) -> None:
        self.alive = False
        self._poke()

    # -- application API -----------------------------------------------------------------
    def send(self, topic: str, partition: int, messages: list[int]) -> None:
        if not messages:
            return
        key = (topic, partition)
        acc = self.accumulators.get(key)
        if acc is None:
            acc = self.accumulators[key] = _Accumulator()
        if not acc.messages:
            acc.first_arrival = self.env.now
        acc.messages.extend(messages)
        if self.txn_id and key not in self.txn_partitions:
            # AddPartitionsToTxn before the first send to a partition (its cost is part of
            # transaction.overhead.ms at commit time).
            error = self.sim.txn_coordinator.add_partition(self.txn_id, self.epoch, topic,
                                                           partition, self.env.now)
            if error:
                self._fence(error)
                return
            self.txn_partitions.add(key)
            self.sim.arm_txn_timeout(self.txn_id)
        if self.linger == 0:
            self._drain(self.env.now)  # linger.ms=0: on the wire now, not at the next wake-up
        self._poke()

    def flush(self) -> Steps[None]:
        """Send everything now and wait until every batch is acked or failed (a generator)."""
        self.flushing = True
        self._poke()
        while self.unfinished > 0 or any(a.messages for a in self.accumulators.values()):
            if not self.alive:
                return
            self._idle = self.env.event()
            yield self._idle
        self.flushing = False

    # -- sender --------------------------------------------------------------------------
    def _poke(self) -> None:
        if not self._wake.triggered:
            self._wake.succeed()

    def _drain(self, now: float) -> None:
        self._close_batches(now)
        if self.bump_pending:
            if self.in_flight:
                return  # drain first: nothing new goes out until the epoch is bumped
            self._bump_epoch()
        while self.ready and self.in_flight < self.max_in_flight and self.alive:
            batch = self.ready[0]
            if batch.not_before > now or not self._window_allows(batch):
                break
            self.ready.pop(0)
            self._send(batch)

    def _sender(self) -> Steps[None]:
        env = self.env
        while self.alive:
            now = env.now
            self._drain(now)
            wake_at = None
            if not self.flushing:
                for acc in self.accumulators.values():
                    if acc.messages:
                        t = acc.first_arrival + self.linger
                        wake_at = t if wake_at is None else min(wake_at, t)
            head = self.ready[0] if self.ready else None
            if head and self.in_flight < self.max_in_flight and head.not_before > now:
                t = head.not_before
                wake_at = t if wake_at is None else min(wake_at, t)
            self._wake = env.event()
            if wake_at is None:
                yield self._wake
            else:
                yield env.any_of([env.timeout(max(wake_at - now, 0)), self._wake])

    def _window_allows(self, batch: ProducerBatch) -> bool:
        if not self.idempotent:
            return True
        window = self.window.setdefault((batch.topic, batch.partition), [])
        while window and window[0].done:
            window.pop(0)
        if batch.attempts:
            # A retry goes out only as the oldest unfinished batch of its partition, as the
            # Java client drains a retried batch only when it is the first in flight.
            return bool(window) and window[0] is batch
        if len(window) >= self.max_in_flight:
            return False
        window.append(batch)
        return True

    def _close_batches(self, now: float) -> None:
        for (topic, partition), acc in self.accumulators.items():
            msgs = acc.messages
            closed = False
            while msgs and (len(msgs) >= self.per_batch or self.flushing
                            or now >= acc.first_arrival + self.linger):
                chunk, msgs = msgs[: self.per_batch], msgs[self.per_batch:]
                batch = ProducerBatch(topic, partition, chunk, now, not_before=now)
                if self.idempotent:
                    key = (topic, partition)
                    batch.base_seq = self.next_seq.get(key, 0)
                    self.next_seq[key] = batch.base_seq + len(chunk)
                self.ready.append(batch)
                self.unfinished += 1
                closed = True
            acc.messages = msgs
            if msgs and closed:
                # what is left starts the next batch now; an untouched batch keeps the time of
                # its first record, so linger.ms counts from it (Java RecordAccumulator.ready:
                # waitedTimeMs since the batch was created), however fast records arrive
                acc.first_arrival = now

    def _send(self, batch: ProducerBatch) -> None:
        sim = self.sim
        batch.attempts += 1
        attempt = batch.attempts
        batch.live_attempt = attempt
        if sim.replication is not None:  # to the leader the (refreshed) metadata names
            batch.broker = sim.replication.leader_of(batch.topic, batch.partition)
        fate = sim.produce_fault(batch, attempt)
        sim.trace.emit(
            "produce", self.name,
            f"{self.name} sends a batch of {len(batch.messages)} to partition {batch.partition}"
            + (f" (attempt {attempt})" if attempt > 1 else "")
            + (f", PID {self.pid} seq {batch.base_seq}" if self.idempotent else ""),
            topic=batch.topic, partition=batch.partition, messages=batch.messages,
            attempt=attempt, pid=self.pid, epoch=self.epoch, seq=batch.base_seq)
        if self.acks == "0":
            # Fire and forget: success at once, offset unknown (-1); a retry can never happen.
            self._finish(batch, -1, duplicate=False, lost=False)
            if fate.lose_request:
                sim.trace.emit("request_lost", self.name,
                               "the request never reached the broker; with acks=0 nobody "
                               "notices", topic=batch.topic, partition=batch.partition,
                               messages=batch.messages, attempt=attempt)
            else:
                sim.later(sim.net.one_way, self._arrive, batch, attempt, fate, False)
            return
        self.in_flight += 1
        batch.connection = self.connection
        self.in_flight_batches.append(batch)
        behind = batch.connection in self.broken_connections
        if fate.lose_request or behind:
            self.broken_connections.add(batch.connection)
            sim.trace.emit("request_lost", self.name,
                           "the produce request never reached the broker"
                           + (": the connection broke with an earlier request on it, and the "
                              "broker reads a connection's requests in order" if behind else
                              " (the connection broke; later requests on it are lost too "
                              "until the producer notices and reconnects)"),
                           topic=batch.topic, partition=batch.partition,
                           messages=batch.messages, attempt=attempt, behind=behind)
        else:
            sim.later(sim.net.one_way, self._arrive, batch, attempt, fate, True)
        sim.later(self._client_timeout(batch), self._timeout, batch, attempt)

    def _client_timeout(self, batch: ProducerBatch) -> float:
        """How long the client waits for this request's response before giving up on it.

        Java: request.timeout.ms. librdkafka: its request.timeout.ms is the broker's acks wait
        (one replica: never reached); the client waits the lesser of socket.timeout.ms and the
        first message's remaining message.timeout.ms (CONFIGURATION.md socket.timeout.ms)."""
        c = self.sim.config
        if c["client.model"] != "librdkafka":
            timeout: float = c["request.timeout.ms"]
            return timeout
        wait: float = c["socket.timeout.ms"]
        if c["delivery.timeout.ms"]:
            left = c["delivery.timeout.ms"] - (self.env.now - batch.created)
            wait = min(wait, max(left, 0))
        return wait

    def _injected_error(self, batch: ProducerBatch, attempt: int) -> str | None:
        if not self.error_faults:
            return None
        for m in batch.messages:
            error = self.error_faults.pop((m, attempt), None)
            if error:
                return error
        return None

    def _arrive(self, batch: ProducerBatch, attempt: int, fate: ProduceFate,
                respond: bool) -> None:
        sim = self.sim
        error = self._injected_error(batch, attempt) if respond else None
        if sim.replication is not None and not error:
            refusal = sim.replication.refuse(batch.topic, batch.partition, batch.broker,
                                             self.acks)
            if refusal == "DOWN" or (refusal and not respond):
                # A dead machine answers nothing: the connection is as good as broken (later
                # requests on it are lost too) until the request timeout notices. A dead
                # process's host refuses the connection: a disconnect, retried at once. With
                # acks=0 a refusing broker just closes the connection (KafkaApis): nobody
                # notices.
                machine = sim.replication.down_kind.get(batch.broker) == "machine"
                how = ("is down (its machine failed: no answer)" if machine else
                       "is down (its process died: connection refused)")
                sim.trace.emit("request_lost", self.name,
                               f"the produce request reached no live leader: broker "
                               f"{batch.broker} " + (
                                   how if refusal == "DOWN" else
                                   f"answered {refusal} by closing the connection (acks=0)"),
                               topic=batch.topic, partition=batch.partition,
                               messages=batch.messages, attempt=attempt, behind=False,
                               broker=batch.broker, error=refusal)
                if respond and refusal == "DOWN":
                    if machine:
                        self.broken_connections.add(batch.connection)
                    else:
                        sim.later(sim.net.one_way, self._error_response, batch, attempt,
                                  "connection refused", "broker " + str(batch.broker)
                                  + " refused the connection (its process is down; a "
                                  "disconnect, retriable)")
                return
            error = refusal
        if error:
            # A retriable error before the append (ISR below min.insync.replicas, or this
            # broker is no longer the leader): nothing is written, the error comes back.
            extra = {} if sim.replication is None else {"broker": batch.broker}
            sim.trace.emit("rejected", "broker",
                           f"the broker refused the batch from {self.name}: {error} (retriable; "
                           "nothing was written)", topic=batch.topic, partition=batch.partition,
                           messages=batch.messages, error=error, pid=self.pid, epoch=self.epoch,
                           **extra)
            now = sim.env.now
            ready = now + sim.net.one_way
            free_at = self.response_free_at.get(batch.connection, 0.0)
            at = max(ready, free_at)
            self.response_free_at[batch.connection] = at
            if at != float("inf"):
                sim.later(at - now, self._error_response, batch, attempt, error)
            return
        sim.hold_appended()
        result = sim.broker.produce(batch.topic, batch.partition, batch.messages, self.pid,
                                    self.epoch, batch.base_seq, bool(self.txn_id), sim.env.now)
        sim.record_append(self, batch, attempt, result)
        if sim.replication is not None and sim.replication.crash_after and not result.error:
            sim.replication.acked_after_append(batch.messages, batch.broker,
                                               sim.env.now + sim.net.append_ms)
        if sim.replication is not None and sim.replication.random_p and not result.error \
                and not result.duplicate:
            sim.replication.maybe_random_fault(batch.topic, batch.partition, batch.broker,
                                               sim.env.now + sim.net.append_ms)
        if not respond:
            return
        if sim.replication is not None and self.acks == "all" and not result.error:
            # acks=all: the response waits until the high watermark passes the batch
            # (DelayedProduce); the append's own time still counts
            done_at = sim.env.now + sim.net.append_ms
            if self.java:
                sim.replication.when_replicated(
                    batch.topic, batch.partition, result.base_offset + len(batch.messages),
                    lambda: self._respond(batch, attempt, fate, result, done_at))
                return
            # librdkafka: its request.timeout.ms is the broker's acks wait (the request's
            # timeout field), shorter than its own socket.timeout.ms: the broker answers
            # REQUEST_TIMED_OUT, the records staying in the log (fact sheet F). (Java's client
            # times out first, one way earlier, with the same setting.)
            answered = [False]

            def answer() -> None:
                if not answered[0]:
                    answered[0] = True
                    self._respond(batch, attempt, fate, result, done_at)

            def expire() -> None:
                if answered[0]:
                    return
                answered[0] = True
                sim.trace.emit("rejected", "broker",
                               f"the leader's wait for the ISR expired (request.timeout.ms="
                               f"{sim.config['request.timeout.ms']}): REQUEST_TIMED_OUT "
                               "(retriable; the records stay in the log)",
                               topic=batch.topic, partition=batch.partition,
                               messages=batch.messages, error="REQUEST_TIMED_OUT",
                               pid=self.pid, epoch=self.epoch, broker=batch.broker)
                now = sim.env.now
                at = max(now + sim.net.one_way, self.response_free_at.get(batch.connection, 0.0))
                self.response_free_at[batch.connection] = at
                if at != float("inf"):
                    sim.later(at - now, self._error_response, batch, attempt,
                              "REQUEST_TIMED_OUT", "the broker answered REQUEST_TIMED_OUT (the "
                              "ISR did not have the batch within request.timeout.ms; "
                              "retriable, and the records are in the log already)")

            sim.replication.when_replicated(
                batch.topic, batch.partition, result.base_offset + len(batch.messages), answer)
            sim.later(sim.config["request.timeout.ms"], expire)
            return
        self._respond(batch, attempt, fate, result, sim.env.now + sim.net.append_ms)

    def _respond(self, batch: ProducerBatch, attempt: int, fate: ProduceFate,
                 result: ProduceResult, done_at: float) -> None:
        """Schedule the produce response (its append done at ``done_at`` at the earliest)."""
        sim = self.sim
        now = sim.env.now
        ready = max(now, done_at) + sim.net.one_way + fate.delay_ms
        # head of line: not before the response to the previous request on this connection
        free_at = self.response_free_at.get(batch.connection, 0.0)
        if fate.lose_response:
            self.response_free_at[batch.connection] = float("inf")
            if free_at != float("inf"):
                sim.later(ready - now, self._connection_lost, batch, attempt,
                          result.base_offset)
            return
        at = max(ready, free_at)
        self.response_free_at[batch.connection] = at
        if at == float("inf"):
            return  # behind a lost response: it never arrives; the request timeout notices
        sim.later(at - now, self._response, batch, attempt, result, at - ready)

    def _connection_lost(self, batch: ProducerBatch, attempt: int, offset: int) -> None:
        self.sim.trace.emit(
            "ack_lost", self.name,
            f"the broker's response for the batch to partition {batch.partition} (offset "
            f"{offset}) was lost, and with it the connection: no later response on it arrives. "
            "The producer cannot tell whether the batch was written",
            topic=batch.topic, partition=batch.partition, messages=batch.messages,
            attempt=attempt, offset=offset)

    def _response(self, batch: ProducerBatch, attempt: int, result: ProduceResult,
                  held_ms: float = 0.0) -> None:
        if batch.live_attempt != attempt or batch.done or not self.alive:
            return  # timed out already (a late response is ignored), or the process is dead
        batch.live_attempt = 0
        self.in_flight -= 1
        self.in_flight_batches.remove(batch)
        if result.error == "INVALID_PRODUCER_EPOCH":
            self._fence("INVALID_PRODUCER_EPOCH")
            return
        if result.error == "OUT_OF_ORDER_SEQUENCE":
            gap = self._gap_after_expiry(batch)
            self.sim.trace.emit("rejected", self.name,
                                f"the broker rejected seq {batch.base_seq}: "
                                "OutOfOrderSequence (an earlier batch is missing); "
                                + ("that batch expired, so the gap is real: the producer will "
                                   "bump its epoch and restart its sequences at 0 (KIP-360)"
                                   if gap else "retrying in order"),
                                topic=batch.topic, partition=batch.partition,
                                messages=batch.messages, error=result.error)
            if gap:
                self.bump_pending = True
            self._retry(batch, count=False, why="the broker asked for it to be resent in order")
            return
        self._finish(batch, result.base_offset, result.duplicate, lost=False, held_ms=held_ms)

    def _error_response(self, batch: ProducerBatch, attempt: int, error: str,
                        why: str | None = None) -> None:
        if batch.live_attempt != attempt or batch.done or not self.alive:
            return
        batch.live_attempt = 0
        self.in_flight -= 1
        self.in_flight_batches.remove(batch)
        # librdkafka takes NOT_LEADER_OR_FOLLOWER as stale metadata (ERR_ACTION_REFRESH): it
        # refreshes and retries without counting the retry against message.send.max.retries,
        # "there is no chance of duplicate delivery" (rd_kafka_handle_Produce_error,
        # rdkafka_request.c); Java counts every retry (Sender.canRetry)
        count = not (error == "NOT_LEADER_OR_FOLLOWER" and not self.java)
        if not count:
            batch.uncounted += 1
        self._retry(batch, count=count, why=why or f"the broker answered {error}, a retriable "
                                                  "error (nothing was written)"
                    + ("" if count else "; librdkafka refreshes its metadata and does not "
                       "count this retry against retries"))

    def connection_reset(self, broker: int) -> None:
        """Broker ``broker``'s process died: the connection to it closes, and every request in
        flight on that connection fails with a disconnect and is retried (Java NetworkClient:
        NetworkException, retriable; the metadata is refreshed, so the retry goes to whichever
        broker leads then)."""
        hit = [b for b in self.in_flight_batches if b.broker == broker]
        if not hit or not self.alive:
            return
        for b in self._drop_connection(hit[0].connection):
            self._retry(b, count=True, why=f"broker {broker}'s process died and closed the "
                        "connection (a disconnect, retriable)")

    def _drop_connection(self, connection: int) -> list[ProducerBatch]:
        """Close ``connection``: every request in flight on it fails (its response, if one
        still comes, is ignored) and is returned, oldest first, for the caller to retry; the
        next request opens a new connection."""
        failed = [b for b in self.in_flight_batches if b.connection == connection]
        if connection == self.connection:
            self.connection += 1
        for b in failed:
            b.live_attempt = 0
            self.in_flight -= 1
            self.in_flight_batches.remove(b)
        return failed

    def _timeout(self, batch: ProducerBatch, attempt: int) -> None:
        if batch.live_attempt != attempt or batch.done or not self.alive:
            return
        # Disconnect: every request still in flight on this connection fails and is retried
        # on a new one (their responses, if any come, are ignored).
        for b in self._drop_connection(batch.connection):
            self._retry(b, count=True, why=f"no response within {self._timeout_name()}"
                        if b is batch
                        else "the connection was closed when an earlier request on it timed "
                             "out")

    def _timeout_name(self) -> str:
        return ("request.timeout.ms" if self.sim.config["client.model"] != "librdkafka"
                else "socket.timeout.ms (librdkafka's client-side wait)")

    # -- sequence gaps (KIP-360) ----------------------------------------------------------------
    def _gap_after_expiry(self, batch: ProducerBatch) -> bool:
        """Java TransactionManager.canRetry for OutOfOrderSequence (idempotent, not
        transactional): bump the epoch when this batch directly follows an expired one's
        sequences (or is the next one and nothing is unresolved); otherwise just retry."""
        if not self.idempotent or self.txn_id or batch.seq_reset:
            return False
        key = (batch.topic, batch.partition)
        if key not in self.unresolved:
            return False  # the earlier batch is still being retried: wait for it
        return batch.base_seq == self.unresolved[key] or not self.java

    def _expired(self, batch: ProducerBatch) -> None:
        """A sent batch expired: its sequences may be a gap in the broker's view."""
        if not self.idempotent or self.txn_id or not batch.attempts:
            return
        key = (batch.topic, batch.partition)
        end = batch.base_seq + len(batch.messages)
        self.unresolved[key] = max(self.unresolved.get(key, end), end)
        if not self.java:
            # librdkafka: a timed-out message leaves a gap: drain the requests in flight, then
            # bump the epoch (rd_kafka_idemp_drain_epoch_bump, rdkafka_idempotence.c)
            self.bump_pending = True
        self._resolve_sequences()

    def _resolve_sequences(self) -> None:
        """Java TransactionManager.maybeResolveSequences: once nothing of a partition is in
        flight, a gap is resolved if later batches were acknowledged after it (the expired
        batch had been written after all); otherwise the epoch is bumped."""
        for key, _next in list(self.unresolved.items()):
            if any(b.attempts and not b.done for b in self.window.get(key, ())):
                continue
            if self.last_acked.get(key, -1) + 1 != self.next_seq.get(key, 0):
                self.bump_pending = True
            else:
                del self.unresolved[key]
        if self.bump_pending:
            self._poke()

    def _bump_epoch(self) -> None:
        """Same PID, epoch + 1, every partition's unfinished batches renumbered from 0: the
        broker takes a new epoch starting at sequence 0, so later batches are delivered."""
        self.bump_pending = False
        self.epoch += 1
        renumbered = []
        keys = set(self.next_seq)
        for key in sorted(keys):
            seen: dict[int, ProducerBatch] = {}
            for b in self.window.get(key, []) + self.ready:
                if (b.topic, b.partition) == key and not b.done:
                    seen[id(b)] = b
            seq = 0
            for b in sorted(seen.values(), key=lambda b: b.base_seq):
                b.base_seq = seq
                b.seq_reset = b.attempts > 0
                seq += len(b.messages)
                renumbered.append(b)
            self.next_seq[key] = seq
            self.last_acked[key] = -1
        self.unresolved.clear()
        how = ("locally (Java TransactionManager.bumpIdempotentProducerEpoch)" if self.java else
               "after draining its requests (librdkafka InitProducerId with its current PID)")
        self.sim.trace.emit(
            "epoch_bump", self.name,
            f"{self.name} bumps its epoch {how}: PID {self.pid} epoch {self.epoch}; the "
            f"{len(renumbered)} unfinished batch(es) restart at sequence 0, so the expired "
            "batch's gap is skipped (KIP-360)",
            pid=self.pid, epoch=self.epoch, renumbered=len(renumbered))

    def _retry(self, batch: ProducerBatch, count: bool, why: str) -> None:
        c = self.sim.config
        now = self.env.now
        # Exponential backoff (KIP-580): retry.backoff.ms doubling up to retry.backoff.max.ms
        # (the real clients add ±20% jitter; the model does not, to stay easy to follow).
        counted = batch.attempts - batch.uncounted  # attempts whose retries count
        backoff = min(c["retry.backoff.ms"] * 2 ** max(counted - 1, 0),
                      max(c["retry.backoff.max.ms"], c["retry.backoff.ms"]))
        limit = c["delivery.timeout.ms"] or float("inf")  # librdkafka: 0 is infinite
        out_of_time = now + backoff - batch.created >= limit
        out_of_retries = count and counted > c["retries"]
        if out_of_time or out_of_retries:
            batch.done = True
            self.unfinished -= 1
            why = "delivery.timeout.ms expired" if out_of_time else "retries exhausted"
            self.sim.trace.emit("gave_up", self.name,
                                f"{self.name} gave up on a batch of {len(batch.messages)} "
                                f"({why}); the application's callback gets an error",
                                topic=batch.topic, partition=batch.partition,
                                messages=batch.messages, reason=why)
            self.on_fail(batch)
            self._expired(batch)
            self._check_idle()
            self._poke()  # the batches queued behind it may go now
            return
        batch.not_before = now + backoff
        self.sim.trace.emit("retry", self.name,
                            f"{why}: {self.name} will resend the batch (attempt "
                            f"{batch.attempts + 1}) after a backoff of {backoff:g} ms",
                            topic=batch.topic,
                            partition=batch.partition, messages=batch.messages,
                            attempt=batch.attempts + 1)
        self.ready.append(batch)
        if self.idempotent:  # retries go out in sequence order, as the Java client does
            self.ready.sort(key=lambda b: (b.topic, b.partition, b.base_seq))
        else:
            self.ready.sort(key=lambda b: b.not_before)
        self._poke()

    def _finish(self, batch: ProducerBatch, offset: int, duplicate: bool, lost: bool,
                held_ms: float = 0.0) -> None:
        batch.done = True
        self.unfinished -= 1
        if duplicate:
            text = (f"the broker recognised PID {self.pid} seq {batch.base_seq} as a duplicate: "
                    f"not appended again, answered with the original offset {offset}")
        elif offset < 0:
            text = f"{self.name}: acks=0, counted as sent without any answer"
        else:
            text = (f"{self.name} got the acknowledgement: partition {batch.partition}, "
                    f"offset {offset}")
        extra: dict[str, Any] = {}
        if self.sim.replication is not None and offset >= 0:
            extra["broker"] = batch.broker  # the leader that answered, and how
            extra["acks"] = self.acks
        if held_ms > 0:
            text += (f" ({held_ms:g} ms late: responses on a connection come back in order, and "
                     "it waited behind an earlier one)")
            extra["held_ms"] = round(held_ms, 6)
        self.sim.trace.emit("ack", self.name, text, topic=batch.topic,
                            partition=batch.partition, messages=batch.messages, offset=offset,
                            duplicate=duplicate, **extra)
        if self.idempotent and batch.base_seq >= 0:
            key = (batch.topic, batch.partition)
            last = batch.base_seq + len(batch.messages) - 1
            self.last_acked[key] = max(self.last_acked.get(key, -1), last)
            if self.unresolved:
                self._resolve_sequences()
        self.on_ack(batch, offset)
        self._check_idle()
        self._poke()

    def _check_idle(self) -> None:
        if self.unfinished == 0 and not self._idle.triggered:
            self._idle.succeed()

    def _fence(self, error: str) -> None:
        if self.fenced:
            return
        self.fenced = True
        self.alive = False
        self.sim.trace.emit("fenced", self.name,
                            f"{self.name} (PID {self.pid}, epoch {self.epoch}) is fenced: {error}; "
                            "its epoch is stale: a newer instance with the same "
                            "transactional.id, or the coordinator aborting after "
                            "transaction.timeout.ms, bumped it",
                            pid=self.pid, epoch=self.epoch, error=error)
        if not self._idle.triggered:
            self._idle.succeed()

    # -- transactions --------------------------------------------------------------------
    def begin_transaction(self) -> None:
        self.txn_partitions = set()
        self.sim.trace.emit("txn_begin", self.name, f"{self.name} begins a transaction",
                            pid=self.pid, epoch=self.epoch)

    def send_offsets_to_transaction(self, group: str, topic: str, offsets: dict[int, int],
                                    member: str | None = None,
                                    generation: int | None = None) -> Steps[str | None]:
        """AddOffsetsToTxn + TxnOffsetCommit: the offsets count only if the transaction commits.

        Returns None on success, else the error ("ILLEGAL_GENERATION" leaves the producer
        usable: the application aborts the transaction and rejoins the group)."""
        yield self.env.timeout(self.sim.net.rtt)
        if not self.alive:
            return "DEAD"
        assert self.txn_id is not None  # a transactional producer
        error = self.sim.txn_coordinator.add_offsets(self.txn_id, self.epoch, group, topic,
                                                     dict(offsets), self.env.now, member,
                                                     generation)
        if error == "ILLEGAL_GENERATION":
            self.sim.trace.emit("commit_failed", self.name,
                                f"{self.name}'s sendOffsetsToTransaction was refused: its "
                                "consumer is from an old group generation (KIP-447 fencing); "
                                "the transaction will be aborted", error=error,
                                offsets={str(p): o for p, o in offsets.items()}, how="txn",
                                api="sendOffsetsToTransaction", group=group, topic=topic)
            return error
        if error:
            self._fence(error)
            return error
        self.sim.arm_txn_timeout(self.txn_id)
        return None

    def end_transaction(self, commit: bool) -> Steps[bool]:
        """commitTransaction / abortTransaction (a generator). Returns True on success.

        Both first wait for the requests in flight, so none lands after the marker."""
        yield from self.flush()
        if not self.alive:
            return False
        yield self.env.timeout(self.sim.net.rtt + self.sim.config["transaction.overhead.ms"])
        if self.fenced:
            return False
        assert self.txn_id is not None  # a transactional producer
        error, markers = self.sim.txn_coordinator.end_txn(self.txn_id, self.epoch, commit,
                                                          self.env.now)
        if error:
            self._fence(error)
            return False
        self.sim.record_markers(markers, reason=f"{self.name} "
                                f"{'committed' if commit else 'aborted'} its transaction")
        self.sim.trace.emit("txn_commit" if commit else "txn_abort", self.name,
                            f"{self.name} {'committed' if commit else 'aborted'} its "
                            f"transaction (markers written to {len(markers)} partition(s))",
                            pid=self.pid, epoch=self.epoch)
        self.txn_partitions = set()
        return True


class ProducerApplication:
    """Sends messages 0..N-1 round-robin over the partitions, one every
    ``producer.send.interval.ms``; resends what was not acknowledged after a restart."""

    def __init__(self, sim: Simulation, topic: str) -> None:
        self.sim = sim
        self.env = sim.env
        self.topic = topic
        c = sim.config
        self.n = c["messages"]
        self.partitions = c["partitions"]
        self.interval = c["producer.send.interval.ms"]
        self.transactional = sim.source_txn
        self.acked: set[int] = set()
        self.failed: set[int] = set()
        self.committed: set[int] = set()
        self.in_txn: list[int] = []
        self.instance = 0
        self.zombies: list[simpy.Process] = []
        self.client: ProducerClient | None = None
        self.done = self.env.event()
        self.error_faults = {(f["message"], f.get("attempt", 1)):
                             f.get("error", "NOT_ENOUGH_REPLICAS")
                             for f in sim.faults if f["type"] == "error_response"}
        # Application actions on its transactions, by the n-th time it ends one (from 1):
        # abortTransaction() instead of commitTransaction(), or leave it open.
        self.txn_ends = 0
        self.aborts = {f["transaction"]: f for f in sim.faults
                       if f["type"] == "abort_transaction"}
        self.leave_open = {f["transaction"]: f for f in sim.faults
                           if f["type"] == "leave_transaction_open"}
        for f in list(self.aborts.values()) + list(self.leave_open.values()):
            if f["transaction"] < 1:
                raise FaultError(f"{f['type']}: transaction counts from 1")
            if not self.transactional:
                raise FaultError(f"{f['type']}: the producer application is not transactional "
                                 "(set transactional.id; with pipeline=true the transactions "
                                 "are the transform's)")
        self.restarts = sorted(
            (f for f in sim.faults if f["type"] == "producer_restart"),
            key=lambda f: float(f["after_message"] if "after_message" in f else f["at_ms"]))
        self.env.process(self._run())

    def _new_client(self) -> ProducerClient:
        self.instance += 1
        name = "producer" if self.instance == 1 else f"producer#{self.instance}"
        txn_id = self.sim.config["transactional.id"] if self.transactional else None
        return ProducerClient(self.sim, name, txn_id, on_ack=self._on_ack, on_fail=self._on_fail,
                              error_faults=self.error_faults)

    def _on_ack(self, batch: ProducerBatch, offset: int) -> None:
        self.acked.update(batch.messages)

    def _on_fail(self, batch: ProducerBatch) -> None:
        self.failed.update(batch.messages)

    def _send(self, ids: list[int]) -> None:
        assert self.client is not None  # _run made it
        by_partition: dict[int, list[int]] = {}
        if self.partitions == 1 and ids:
            by_partition[0] = list(ids)
        else:
            for m in ids:
                by_partition.setdefault(m % self.partitions, []).append(m)
        self.sim.trace.emit(
            "send", self.client.name,
            f"the application sends message{'s' if len(ids) > 1 else ''} "
            f"{_span(ids)}", messages=list(ids))
        for p, msgs in by_partition.items():
            self.client.send(self.topic, p, msgs)
        if self.transactional:
            self.in_txn.extend(ids)

    def _run(self) -> Steps[None]:
        env = self.env
        c = self.sim.config
        if c["producer.start.ms"] > 0:
            yield env.timeout(c["producer.start.ms"])
        self.client = self._new_client()
        yield from self.client.init()
        pending = list(range(self.n))
        restarts = list(self.restarts)
        per_txn = c["transaction.messages"]
        # Small runs hand each message over at its own time; large runs hand them over in
        # chunks of at most linger.ms (or a full batch), so events stay per batch.
        step = self.interval
        if self.n > SMALL_RUN and self.interval > 0:
            step = max(self.interval, min(c["linger.ms"], self.client.per_batch
                                          * self.partitions * self.interval))
        start = env.now
        sent_count = 0
        while pending:
            if self.transactional and not self.in_txn:
                self.client.begin_transaction()
            # Which messages the application has produced by now (one per interval).
            if self.interval > 0:
                due = int((env.now - start) / self.interval) + 1 - sent_count
                due = max(due, 1)
            else:
                due = len(pending)
            if self.transactional:
                due = min(due, per_txn - len(self.in_txn))
            chunk = pending[:due]
            restart = None
            if restarts:
                f = restarts[0]
                if "after_message" in f and f["after_message"] in chunk:
                    chunk = chunk[: chunk.index(f["after_message"]) + 1]
                    restart = restarts.pop(0)
                elif "at_ms" in f and env.now >= f["at_ms"]:
                    chunk, restart = [], restarts.pop(0)
            if chunk:
                del pending[: len(chunk)]
                sent_count += len(chunk)
                self._send(chunk)
            if restart is not None:
                pending = yield from self._restart(restart, pending)
                continue
            if self.transactional and (len(self.in_txn) >= per_txn or not pending):
                self.txn_ends += 1
                left_open = self.leave_open.pop(self.txn_ends, None)
                if left_open is not None:
                    stays = yield from self._leave_open(left_open)
                    if stays:
                        break  # the application never comes back to this transaction
                abort = self.aborts.pop(self.txn_ends, None)
                if abort is not None:
                    ok = yield from self.client.end_transaction(commit=False)
                    if ok:
                        aborted, self.in_txn = self.in_txn, []
                        if abort.get("resend", True):  # the application's retry loop
                            pending = aborted + pending
                        continue
                    ok = False
                else:
                    ok = yield from self.client.end_transaction(commit=True)
                if ok:
                    self.committed.update(self.in_txn)
                    self.in_txn = []
                else:
                    # ProducerFencedException is fatal: the application closes this producer,
                    # starts a new one and resends the transaction that did not commit.
                    pending = yield from self._restart({"fenced": True}, pending)
                continue
            if pending and self.interval > 0:
                yield env.timeout(step)
        if not self.transactional:
            yield from self.client.flush()
        if self.zombies:  # the story ends when the zombies have had their say too
            yield self.env.all_of(self.zombies)
        self.done.succeed()

    def _leave_open(self, fault: Fault) -> Steps[bool]:
        """The application does not end its transaction: it stalls for ``for_ms`` and then
        commits as usual, or (no ``for_ms``) never comes back. The coordinator aborts a
        transaction open longer than transaction.timeout.ms; until then read_committed readers
        wait at its first offset (the LSO). Returns True if the application never comes back."""
        sim = self.sim
        assert self.client is not None  # _run made it
        timeout = sim.config["transaction.timeout.ms"]
        stall = fault.get("for_ms")
        sim.trace.emit(
            "txn_left_open", self.client.name,
            "the application leaves its transaction open "
            + (f"for {stall:g} ms" if stall is not None else "and never comes back to it")
            + f" (messages {_span(self.in_txn)}); the coordinator aborts it once "
            f"transaction.timeout.ms={timeout} has passed, and until then read_committed "
            "readers cannot read past its first offset",
            pid=self.client.pid, epoch=self.client.epoch, messages=list(self.in_txn),
            for_ms=stall)
        if stall is not None:
            yield self.env.timeout(stall)
            return False
        # kafkalab ends this producer's story once the coordinator has aborted it
        yield self.env.timeout(timeout + sim.net.rtt + sim.config["transaction.overhead.ms"])
        return True

    def _restart(self, fault: Fault, pending: list[int]) -> Steps[list[int]]:
        """The application process dies and comes back: a new producer instance."""
        sim, env = self.sim, self.env
        old = self.client
        assert old is not None  # _run made it
        zombie = fault.get("zombie", False)
        yield env.timeout(0)  # requests already handed to the network still go out
        what = ("its transaction could not commit (the producer was fenced, e.g. after "
                "transaction.timeout.ms): the application closes the producer"
                if fault.get("fenced") else "the producer application dies")
        sim.trace.emit("producer_restart", old.name,
                       what + (" but its old instance lives on as a zombie" if zombie else "")
                       + "; a new producer starts after restart.delay.ms="
                       + f"{sim.config['restart.delay.ms']:g}",
                       zombie=zombie, pid=old.pid, epoch=old.epoch)
        if zombie:
            self.zombies.append(env.process(self._zombie(old)))
        else:
            old.kill()
        yield env.timeout(sim.config["restart.delay.ms"])
        self.client = self._new_client()
        yield from self.client.init()
        # The application resends what it has no proof of: unacknowledged sends, and for a
        # transactional application everything not in a committed transaction.
        confirmed = self.committed if self.transactional else self.acked
        sent_before = [m for m in range(self.n) if m not in pending]
        resend = [m for m in sent_before if m not in confirmed]
        self.in_txn = []
        self.failed.difference_update(resend)
        return resend + pending

    def _zombie(self, client: ProducerClient) -> Steps[None]:
        """The old instance keeps going: it flushes and, if transactional, tries to commit."""
        if client.txn_id:
            yield from client.end_transaction(commit=True)
        else:
            yield from client.flush()


def _span(ids: list[int]) -> str:
    if len(ids) == 1:
        return str(ids[0])
    if ids == list(range(ids[0], ids[0] + len(ids))):
        return f"{ids[0]}–{ids[-1]}"
    return ", ".join(map(str, ids[:6])) + ("…" if len(ids) > 6 else "")

