"""Run configuration: Kafka's own property names, validated like Kafka validates them.

A configuration is a plain dict. Keys are either real Kafka client properties
(``enable.auto.commit``, ``acks``, ...) or kafkalab's workload and cost keys
(``messages``, ``commit.strategy``, ``processing.ms``, ...), listed in ``PROPERTIES``
with the ``kafka`` flag telling them apart.

Defaults follow the chosen ``client.model``: the Java client's defaults or
librdkafka's (confluent-kafka-python and most non-Java clients), from the fact sheet.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

INT32_MAX = 2147483647
# A run's config: Kafka property names and kafkalab's workload keys -> values (``resolve``
# fills in every default: the effective config a RunResult carries).
Config: TypeAlias = dict[str, Any]


class ConfigError(ValueError):
    """A configuration Kafka (or kafkalab) would refuse. Worded like Kafka's ConfigException.

    ``kafka`` is True when a real Kafka client would refuse it too (one of Kafka's own
    properties), False when only kafkalab does (its workload keys): say "Kafka would refuse"
    only for the first."""

    def __init__(self, message: str, kafka: bool = True):
        super().__init__(message)
        self.kafka = kafka


@dataclass(frozen=True)
class Property:
    name: str
    kind: str  # "bool", "int", "float", "choice", "str"
    java: Any
    librdkafka: Any
    doc: str
    kafka: bool = True  # a real Kafka client property, not a kafkalab workload key
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    # librdkafka's own spellings: other names of the property (``rd_kafka_conf`` aliases or
    # librdkafka's name where Java's differs) and other words for its values. Accepted with
    # client.model=librdkafka and stored under Kafka's (Java's) spelling; refused with
    # client.model=java, naming librdkafka.
    rdkafka_names: tuple[str, ...] = ()
    rdkafka_values: tuple[tuple[str, str], ...] = ()  # ((librdkafka's word, Java's word), ...)
    # "librdkafka": a property only that client has. The other client model refuses a value
    # other than the default (the default changes nothing there, so the Lab may pass it).
    only: str | None = None


def _p(name: str, kind: str, java: Any, librdkafka: Any = ..., doc: str = "",
       **kw: Any) -> Property:
    return Property(name, kind, java, java if librdkafka is ... else librdkafka, doc, **kw)


COMMIT_STRATEGIES = (
    "auto",  # no manual commits: enable.auto.commit does the work
    "before-processing",  # commitSync right after poll, then process: at-most-once
    "per-record",  # process a record, commitSync its offset + 1
    "per-batch",  # process the whole poll, then commitSync()
    "async-per-batch",  # process the whole poll, then commitAsync()
    "transaction",  # consume-transform-produce: offsets go in the producer's transaction
    # librdkafka's at-least-once pattern: enable.auto.offset.store=false, the application
    # calls store_offsets() after processing each record, the background timer commits
    "store-after-processing",
)

ERROR_ACTIONS = ("crash", "close", "skip")

PROPERTIES: dict[str, Property] = {
    p.name: p
    for p in [
        # -- kafkalab: which client library's behaviour and defaults to model
        _p("client.model", "choice", "java", "librdkafka",
           doc="Which client's auto-commit and defaults to model.", kafka=False,
           choices=("java", "librdkafka")),
        # -- kafkalab: workload
        _p("messages", "int", 10, doc="Messages the producer application sends.", kafka=False,
           low=0, high=1_000_000),
        _p("partitions", "int", 1, doc="Partitions of the input topic.", kafka=False, low=1, high=64),
        _p("consumers", "int", 1, doc="Members of the consumer group.", kafka=False, low=1, high=16),
        _p("producer.send.interval.ms", "float", 1.0,
           doc="Gap between two sends of the producer application; 0 writes the whole topic "
               "before the consumer starts.", kafka=False, low=0, high=60_000),
        _p("consumer.start.ms", "float", 0.0, doc="When the consumer application starts.",
           kafka=False, low=0, high=3_600_000),
        _p("producer.start.ms", "float", 0.0,
           doc="When the producer application starts (after the consumer, for a consumer "
               "that joins an empty topic: with auto.offset.reset=latest it starts at the end "
               "and still sees everything).", kafka=False, low=0, high=3_600_000),
        _p("commit.strategy", "choice", "auto",
           doc="How the consumer application commits: auto (enable.auto.commit does it), "
               "before-processing (commitSync right after poll), per-record (commitSync each "
               "record's offset + 1 after processing it), per-batch / async-per-batch "
               "(commitSync / commitAsync after the whole poll), transaction (offsets in the "
               "producer's transaction), store-after-processing (librdkafka: "
               "store_offsets() after each record, the background timer commits; sets "
               "enable.auto.offset.store=false).",
           kafka=False, choices=COMMIT_STRATEGIES),
        _p("on.processing.error", "choice", "crash",
           doc="What the application does when processing a record fails: crash (process dies, "
               "no close), close (the exception escapes and the consumer is closed), skip (log "
               "it and keep polling).", kafka=False, choices=ERROR_ACTIONS),
        _p("on.commit.error", "choice", "crash",
           doc="What the application does when a manual commitSync() throws "
               "CommitFailedException (the member left the group): crash (the exception "
               "escapes the poll loop and the process dies: a plain loop), close (it escapes "
               "and try-with-resources closes the consumer), skip (catch it, keep processing "
               "and polling; the next poll() rejoins).", kafka=False, choices=ERROR_ACTIONS),
        _p("sink.idempotent", "bool", False,
           doc="The sink ignores a message id it has already applied.", kafka=False),
        _p("pipeline", "bool", False,
           doc="Consume-transform-produce: the consumer writes F(record) to an output topic "
               "that a downstream reader consumes into the sink.", kafka=False),
        _p("transaction.messages", "int", 10,
           doc="A transactional producer application commits after this many messages.",
           kafka=False, low=1, high=100_000),
        _p("restart.delay.ms", "float", 100.0,
           doc="How long a crashed consumer or producer takes to come back.", kafka=False,
           low=0, high=600_000),
        _p("max.restarts", "int", 50,
           doc="A consumer that crashes more often than this is left down (a crash loop); "
               "the run then ends undrained and its unprocessed messages count as unseen.",
           kafka=False, low=0, high=10_000),
        _p("max.simulated.ms", "float", 3_600_000.0,
           doc="Safety stop: the run ends here even if it has not drained.", kafka=False,
           low=1, high=1e9),
        _p("message.bytes", "int", 100, doc="Size of one record, for batch.size.", kafka=False,
           low=1, high=1_000_000),
        # -- kafkalab: latency and cost model (simulated milliseconds)
        _p("network.rtt.ms", "float", 2.0, doc="Client-broker round trip.", kafka=False,
           low=0, high=60_000),
        _p("broker.append.ms", "float", 0.5, doc="Broker time to append one batch.", kafka=False,
           low=0, high=60_000),
        _p("commit.write.ms", "float", 1.0,
           doc="Group coordinator time to write an offset commit.", kafka=False, low=0,
           high=60_000),
        _p("processing.ms", "float", 1.0, doc="Application time to process one record.",
           kafka=False, low=0, high=600_000),
        _p("transaction.overhead.ms", "float", 2.0,
           doc="Coordinator time for AddPartitionsToTxn / EndTxn and writing markers.",
           kafka=False, low=0, high=60_000),
        # -- kafkalab: the cluster (issue 18; brokers=1 is the single-replica model)
        _p("brokers", "int", 1, doc="Brokers in the cluster; partition leaders are spread over "
           "them (partition p's replicas are brokers p, p+1, ... modulo brokers).",
           kafka=False, low=1, high=9),
        _p("replica.rtt.ms", "float", 1.0,
           doc="Round trip of one follower Fetch between two brokers (replication's cost).",
           kafka=False, low=0, high=60_000),
        # -- topic and broker (replication): CreateTopics' replication factor, topic configs
        _p("replication.factor", "int", 1, doc="Replicas of each partition of both topics "
           "(one leader, the rest followers that fetch from it); at most brokers.",
           low=1, high=32_767),
        _p("min.insync.replicas", "int", 1, doc="Topic config: with acks=all, a write needs "
           "this many in-sync replicas.", low=1, high=INT32_MAX),
        _p("replica.lag.time.max.ms", "int", 30_000, doc="Broker: a follower not caught up to "
           "the leader's log end within this long leaves the ISR (the leader checks every half "
           "of it); it rejoins once it has caught up to the high watermark.", low=0,
           high=INT32_MAX),
        _p("unclean.leader.election.enable", "bool", False, doc="Topic config: with no live "
           "ISR member, elect any live replica anyway (it may lack acknowledged records: they "
           "are lost). False: the partition stays offline until an ISR member returns."),
        _p("broker.session.timeout.ms", "int", 9_000, doc="KRaft controller: a broker that "
           "stops heartbeating is fenced after this long; its partitions then get new leaders "
           "(a restarted broker is fenced as soon as it registers again).", low=1,
           high=INT32_MAX),
        _p("log.flush.interval.messages", "int", 9_223_372_036_854_775_807, doc="Topic "
           "config: fsync a replica's log after this many new records (default: never; Kafka "
           "relies on replication, so a machine failure loses the unflushed tail).", low=1,
           high=9_223_372_036_854_775_807),
        _p("log.flush.interval.ms", "int", None, doc="Topic config: fsync a replica's log "
           "when its oldest unflushed record is this old (checked at each append here; "
           "default none: never).", low=0, high=9_223_372_036_854_775_807, nullable=True),
        # -- producer
        _p("acks", "choice", "all", "all", doc="Acknowledgements the leader waits for "
           "(-1 means all, in both clients).", choices=("0", "1", "all"),
           rdkafka_names=("request.required.acks",)),
        _p("retries", "int", INT32_MAX, INT32_MAX, doc="Retries of a failed produce request.",
           low=0, high=INT32_MAX, rdkafka_names=("message.send.max.retries",)),
        _p("retry.backoff.ms", "int", 100, 100, doc="Wait before a retry.", low=0,
           high=INT32_MAX),
        _p("retry.backoff.max.ms", "int", 1000, 1000,
           doc="Retry backoff doubles from retry.backoff.ms up to this.", low=0,
           high=INT32_MAX),
        _p("request.timeout.ms", "int", 30_000, 30_000,
           doc="Java: how long the producer waits for a response before it retries. "
               "librdkafka: enforced by the broker only (its acks wait; the client's own wait "
               "is socket.timeout.ms), so with one replica it never fires.",
           low=0, high=INT32_MAX),
        _p("socket.timeout.ms", "int", 60_000, 60_000,
           doc="librdkafka only: how long the producer waits for a response (the lesser of "
               "this and the first message's remaining message.timeout.ms) before it retries; "
               "with a transactional.id it defaults to transaction.timeout.ms - 100 (at least "
               "900).", low=10, high=300_000, only="librdkafka"),
        _p("delivery.timeout.ms", "int", 120_000, 300_000,
           doc="Bound on the whole send, retries included (librdkafka: message.timeout.ms; "
               "0 is infinite there, and with a transactional.id it defaults to "
               "transaction.timeout.ms). Java refuses an explicit value below linger.ms + "
               "request.timeout.ms and raises a defaulted one to that sum.",
           low=0, high=INT32_MAX, rdkafka_names=("message.timeout.ms",)),
        _p("max.in.flight.requests.per.connection", "int", 5, 1_000_000,
           doc="Unacknowledged produce requests at once.", low=1, high=1_000_000,
           rdkafka_names=("max.in.flight",)),
        _p("enable.idempotence", "bool", True, False,
           doc="PID + per-partition sequence numbers: the broker drops retried duplicates."),
        _p("transactional.id", "str", None, None,
           doc="Stable id: same PID across restarts, epoch bump, zombie fencing.", nullable=True),
        _p("transaction.timeout.ms", "int", 60_000, 60_000,
           doc="The coordinator aborts a transaction open this long.", low=1, high=INT32_MAX),
        _p("linger.ms", "float", 5.0, 5.0, doc="Wait for more records before sending a batch.",
           low=0, high=900_000, rdkafka_names=("queue.buffering.max.ms",)),
        _p("batch.size", "int", 16_384, 1_000_000, doc="Bytes per partition batch.", low=1,
           high=INT32_MAX),
        # -- consumer
        _p("group.id", "str", "kafkalab", doc="The consumer group."),
        _p("enable.auto.commit", "bool", True, True, doc="Commit offsets in the background."),
        _p("auto.commit.interval.ms", "int", 5000, 5000,
           doc="Minimum gap between two auto-commits. 0: Java commits inside every poll(); "
               "librdkafka disables the timer (only close() and a rebalance commit).",
           low=0, high=INT32_MAX),
        _p("enable.auto.offset.store", "bool", True, True, only="librdkafka",
           doc="librdkafka only: true stores each message's offset when poll() hands it out; "
               "false means the application stores it after processing each record "
               "(store_offsets(); the same as commit.strategy=store-after-processing)."),
        _p("max.poll.records", "int", 500, 500, doc="Records one poll() hands out at most.",
           low=1, high=INT32_MAX),
        _p("max.poll.interval.ms", "int", 300_000, 300_000,
           doc="A member that does not poll this long leaves the group.", low=1,
           high=INT32_MAX),
        _p("session.timeout.ms", "int", 45_000, 45_000,
           doc="A member without heartbeats this long is removed.", low=1, high=INT32_MAX),
        _p("heartbeat.interval.ms", "int", 3000, 3000,
           doc="How often a member heartbeats to the group coordinator; a member learns that a "
               "rebalance began from its next heartbeat.", low=1, high=INT32_MAX),
        _p("partition.assignment.strategy", "choice", "range,cooperative-sticky",
           "range,roundrobin",
           doc="The assignors, most preferred first; the group uses the first (Java's default "
               "[RangeAssignor, CooperativeStickyAssignor] therefore assigns with range, eager). "
               "cooperative-sticky rebalances incrementally (KIP-429); the others are eager.",
           choices=("range,cooperative-sticky", "range,roundrobin", "range", "roundrobin",
                    "sticky", "cooperative-sticky")),
        _p("group.instance.id", "str", None, None,
           doc="Static membership (KIP-345): member k uses this id + '-k'. A restart within "
               "session.timeout.ms keeps its partitions without a rebalance; a static member "
               "never sends LeaveGroup.", nullable=True),
        _p("group.protocol", "choice", "classic", "classic",
           doc="The rebalance protocol; kafkalab models classic only (KIP-848's consumer "
               "protocol is refused).", choices=("classic", "consumer")),
        _p("group.initial.rebalance.delay.ms", "int", 0, 0,
           doc="Broker: how long the first rebalance of an empty group waits for more members "
               "(each join extends it, up to max.poll.interval.ms). The broker's code default is "
               "3000; Kafka's shipped config/server.properties sets 0, as kafkalab does.",
           low=0, high=INT32_MAX),
        _p("commit.on.revoke", "bool", False,
           doc="The application commits its processed offsets in the rebalance listener "
               "(onPartitionsRevoked / librdkafka rebalance_cb) before giving partitions up; "
               "not when they are lost.", kafka=False),
        _p("fetch.max.wait.ms", "int", 500, 500,
           doc="Longest a fetch waits on the broker for data.", low=0, high=INT32_MAX,
           rdkafka_names=("fetch.wait.max.ms",)),
        _p("auto.offset.reset", "choice", "latest", "latest",
           doc="Where to start without a committed offset (none = raise).",
           choices=("earliest", "latest", "none"),
           rdkafka_values=(("smallest", "earliest"), ("beginning", "earliest"),
                           ("largest", "latest"), ("end", "latest"), ("error", "none"))),
        _p("isolation.level", "choice", "read_uncommitted", "read_committed",
           doc="read_committed stops at the LSO and skips aborted records.",
           choices=("read_uncommitted", "read_committed")),
    ]
}

# Values both clients spell two ways (Java's ProducerConfig accepts acks=-1 too).
_VALUE_ALIASES = {"acks": {"-1": "all"}}
# librdkafka's names -> Kafka's (Java's) name, from the table.
RDKAFKA_NAMES = {alias: p.name for p in PROPERTIES.values() for alias in p.rdkafka_names}


def _bad(name: str, value: Any, why: str) -> ConfigError:
    prop = PROPERTIES.get(name)
    if prop is not None and not prop.kafka:
        return _ours(f"{name}={value!r}: {why}")
    return ConfigError(f"Invalid value {value!r} for configuration {name}: {why}")


def _ours(message: str) -> ConfigError:
    """kafkalab refuses one of its own keys (no Kafka client has them)."""
    return ConfigError(f"kafkalab: {message}", kafka=False)


def _coerce(prop: Property, value: Any, client: str = "java") -> Any:
    name = prop.name
    if value is None:
        if prop.nullable:
            return None
        raise _bad(name, value, "a value is required")
    if prop.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _bad(name, value, "Expected value to be either true or false")
    if prop.kind in ("int", "float"):
        if isinstance(value, bool):
            raise _bad(name, value, _expected(prop))
        try:
            number: float | None
            if prop.kind == "int":
                number = int(value) if not isinstance(value, float) or value.is_integer() else None
                if number is None:
                    raise ValueError
            else:
                number = float(value)
        except (TypeError, ValueError):
            raise _bad(name, value, _expected(prop)) from None
        if number != number:  # NaN
            raise _bad(name, value, "Expected value to be a number")
        if prop.low is not None and number < prop.low:
            raise _bad(name, value, f"Value must be at least {_fmt(prop.low)}")
        if prop.high is not None and number > prop.high:
            raise _bad(name, value, f"Value must be no more than {_fmt(prop.high)}")
        return number
    if prop.kind == "choice":
        text = str(value).strip().lower() if not isinstance(value, bool) else str(value)
        text = _VALUE_ALIASES.get(name, {}).get(text, text)
        theirs = dict(prop.rdkafka_values)
        if text in theirs:
            if client == "librdkafka":
                return theirs[text]
            raise _bad(name, value, f"String must be one of: {', '.join(prop.choices)} "
                                    f"({text!r} is librdkafka's word for {theirs[text]!r}; "
                                    "set client.model=librdkafka to use it)")
        if text not in prop.choices:
            raise _bad(name, value, f"String must be one of: {', '.join(prop.choices)}")
        return text
    if prop.kind == "str":
        text = str(value)
        if not text.strip():
            raise _bad(name, value, "must not be empty")
        return text
    raise AssertionError(prop.kind)


def _expected(prop: Property) -> str:
    return f"Expected value to be a {'32-bit integer' if prop.kind == 'int' else 'number'}"


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def closest_name(name: object, names: Iterable[str]) -> str | None:
    """The one "did you mean" of kafkalab: the entry of ``names`` closest to ``name`` (a
    mistyped property, scenario-file key or preset name), or None when none is close."""
    match = difflib.get_close_matches(str(name), list(names), n=1, cutoff=0.5)
    return match[0] if match else None


def closest_key(name: str, client: str = "librdkafka") -> str | None:
    """The property name closest to ``name`` (librdkafka's names count for librdkafka only)."""
    if client != "librdkafka" and name in RDKAFKA_NAMES:
        return RDKAFKA_NAMES[name]
    return closest_name(name, [*PROPERTIES, *(RDKAFKA_NAMES if client == "librdkafka" else ())])


def defaults(client_model: str = "java") -> dict[str, Any]:
    """Every property's default for one client model."""
    return {
        name: (prop.librdkafka if client_model == "librdkafka" else prop.java)
        for name, prop in PROPERTIES.items()
    } | {"client.model": client_model}


def resolve(overrides: Config | None = None) -> Config:
    """Validate ``overrides`` and merge them over the client model's defaults.

    Raises ConfigError naming the bad key or value and what is allowed.
    """
    overrides = dict(overrides or {})
    client = _coerce(PROPERTIES["client.model"], overrides.get("client.model", "java"))
    for key in overrides:
        if key in PROPERTIES or (client == "librdkafka" and key in RDKAFKA_NAMES):
            continue
        hint = closest_key(key, client)
        if key in RDKAFKA_NAMES:
            raise ConfigError(f"Unknown configuration {key!r} for client.model=java (that is "
                              f"librdkafka's name); did you mean {hint!r}? (the Java client "
                              "would only log it as unknown and ignore it)")
        suffix = f"; did you mean {hint!r}?" if hint else ""
        raise ConfigError(f"Unknown configuration {key!r}{suffix}")
    if client == "librdkafka":
        _merge_rdkafka_names(overrides)
    config = defaults(client)
    explicit = set()
    for key, value in overrides.items():
        prop = PROPERTIES[key]
        config[key] = _coerce(prop, value, client)
        if prop.only and prop.only != client and config[key] != prop.java:
            raise ConfigError(f"Invalid value {value!r} for configuration {key}: it is a "
                              f"{prop.only} property (client.model={client} has no such "
                              f"setting); set client.model={prop.only} to use it")
        explicit.add(key)
    _check_combinations(config, explicit)
    return config


def _merge_rdkafka_names(overrides: dict[str, Any]) -> None:
    """librdkafka's names become Kafka's; two names of one property must agree."""
    for alias, real in RDKAFKA_NAMES.items():
        if alias not in overrides:
            continue
        value = overrides.pop(alias)
        if real in overrides and not _same(PROPERTIES[real], overrides[real], value):
            raise ConfigError(f"Invalid value {value!r} for configuration {alias}: it is "
                              f"another name for {real}, which is set to {overrides[real]!r}; "
                              "set one of them (librdkafka would keep whichever was set last)")
        overrides.setdefault(real, value)


def _same(prop: Property, a: Any, b: Any) -> bool:
    return bool(_coerce(prop, a, "librdkafka") == _coerce(prop, b, "librdkafka"))


def _check_combinations(config: dict[str, Any], explicit: set[str]) -> None:
    if config["client.model"] == "librdkafka":
        _check_librdkafka_producer(config, explicit)
    else:
        _check_java_producer(config, explicit)
    _check_consumer(config, explicit)
    from .cluster import check_cluster  # the replication settings (issue 18)
    check_cluster(config)


def _check_java_producer(config: dict[str, Any], explicit: set[str]) -> None:
    """ProducerConfig.postProcessAndValidateIdempotenceConfigs and
    KafkaProducer.configureDeliveryTimeout, in their order."""
    # Idempotence needs retries > 0, acks=all and at most 5 in-flight requests. An explicit
    # enable.idempotence=true that conflicts is a ConfigException; a defaulted one is switched
    # off (logged at INFO/WARN only).
    conflicts = []
    if config["retries"] == 0:
        conflicts.append(("retries", "Must set retries to non-zero when using the idempotent "
                                     "producer."))
    if config["acks"] != "all":
        conflicts.append(("acks", "Must set acks to all in order to use the idempotent producer. "
                                  "Otherwise we cannot guarantee idempotence."))
    if config["max.in.flight.requests.per.connection"] > 5:
        conflicts.append(("max.in.flight.requests.per.connection",
                          "Must set max.in.flight.requests.per.connection to at most 5 to use "
                          "the idempotent producer."))
    if config["enable.idempotence"] and conflicts:
        if "enable.idempotence" in explicit:
            name, why = conflicts[0]
            raise _bad(name, config[name], why)
        config["enable.idempotence"] = False
    if config["transactional.id"] and not config["enable.idempotence"]:
        raise ConfigError("Cannot set a transactional.id without also enabling idempotence."
                          + (f" ({conflicts[0][0]}={config[conflicts[0][0]]!r} switched the "
                             "defaulted enable.idempotence off)" if conflicts and
                             "enable.idempotence" not in explicit else ""))
    # An explicit delivery.timeout.ms below linger.ms + request.timeout.ms is refused; a
    # defaulted one is raised to that sum (with a WARN).
    floor = min(config["linger.ms"] + config["request.timeout.ms"], INT32_MAX)
    if config["delivery.timeout.ms"] < floor:
        if "delivery.timeout.ms" in explicit:
            raise ConfigError(
                "delivery.timeout.ms should be equal to or larger than linger.ms + "
                f"request.timeout.ms (here {config['delivery.timeout.ms']} < "
                f"{_fmt(config['linger.ms'])} + {config['request.timeout.ms']})")
        config["delivery.timeout.ms"] = math.ceil(floor)


def _check_librdkafka_producer(config: dict[str, Any], explicit: set[str]) -> None:
    """rd_kafka_conf_finalize / rd_kafka_topic_conf_finalize (rdkafka_conf.c): librdkafka
    refuses a conflicting value the user set and adjusts one it defaulted."""
    def refuse(why: str) -> ConfigError:
        return ConfigError(f"librdkafka refuses this configuration: {why}")

    if config["transactional.id"] and not config["enable.idempotence"]:
        if "enable.idempotence" in explicit:
            raise refuse("`transactional.id` requires `enable.idempotence=true`")
        config["enable.idempotence"] = True
    if config["transactional.id"]:
        # "Make sure at least one request can be sent before the transaction times out."
        if "socket.timeout.ms" not in explicit:
            config["socket.timeout.ms"] = max(config["transaction.timeout.ms"] - 100, 900)
        elif config["socket.timeout.ms"] > config["transaction.timeout.ms"] + 100:
            raise refuse("`socket.timeout.ms` must be set <= `transaction.timeout.ms` + 100")
    if config["enable.idempotence"]:
        if "max.in.flight.requests.per.connection" in explicit:
            if config["max.in.flight.requests.per.connection"] > 5:
                raise refuse("`max.in.flight` must be set <= 5 when `enable.idempotence` is "
                             "true")
        else:
            config["max.in.flight.requests.per.connection"] = min(
                config["max.in.flight.requests.per.connection"], 5)
        if "retries" in explicit:
            if config["retries"] < 1:
                raise refuse("`retries` must be set >= 1 when `enable.idempotence` is true")
        else:
            config["retries"] = INT32_MAX
        if "acks" in explicit:
            if config["acks"] != "all":
                raise refuse("`acks` must be set to `all` when `enable.idempotence` is true")
        else:
            config["acks"] = "all"
    if config["transactional.id"]:
        # message.timeout.ms defaults to transaction.timeout.ms and may not exceed it.
        if "delivery.timeout.ms" not in explicit:
            config["delivery.timeout.ms"] = config["transaction.timeout.ms"]
        elif config["delivery.timeout.ms"] > config["transaction.timeout.ms"]:
            raise refuse("`message.timeout.ms` must be set <= `transaction.timeout.ms`")
    timeout = config["delivery.timeout.ms"]
    if timeout != 0 and timeout <= config["linger.ms"]:  # 0 is infinite
        if "linger.ms" in explicit:
            raise refuse("`message.timeout.ms` must be greater than `linger.ms`")
        config["linger.ms"] = timeout - 0.1


def _check_consumer(config: dict[str, Any], explicit: set[str]) -> None:
    strategy = config["commit.strategy"]
    if config["group.protocol"] == "consumer":
        raise _bad("group.protocol", "consumer",
                   "kafkalab models the classic rebalance protocol only (JoinGroup/SyncGroup, "
                   "a client-side assignor, a global barrier); KIP-848's consumer protocol "
                   "(broker-side assignment, per-member reconciliation without a barrier, "
                   "member epochs) is not modelled: use group.protocol=classic")
    assignors = config["partition.assignment.strategy"]
    if config["client.model"] == "librdkafka":
        if assignors == "range,cooperative-sticky":
            raise ConfigError("librdkafka refuses this configuration: All "
                              "`partition.assignment.strategy` (range,cooperative-sticky) "
                              "assignors must have the same protocol type, online migration "
                              "between assignors with different protocol types is not "
                              "supported")
        if assignors == "sticky":
            raise _bad("partition.assignment.strategy", assignors,
                       "librdkafka has no eager sticky assignor (its assignors: range, "
                       "roundrobin, cooperative-sticky)")
    if config["commit.on.revoke"] and strategy == "transaction":
        raise _bad("commit.on.revoke", True,
                   "with commit.strategy=transaction the offsets are committed by the "
                   "transaction, never by the rebalance listener")
    if strategy == "store-after-processing":
        # rd_kafka_offsets_store() returns ERR__INVALID_ARG while enable.auto.offset.store=true
        # (rdkafka_offset.c), so the pattern needs it off; it is on by default.
        if config["client.model"] != "librdkafka":
            raise _bad("commit.strategy", strategy,
                       "store_offsets() is librdkafka's API; set client.model=librdkafka (the "
                       "Java consumer commits what poll() handed out, see per-record)")
        if config["enable.auto.offset.store"] and "enable.auto.offset.store" in explicit:
            raise _bad("enable.auto.offset.store", True,
                       "store_offsets() fails with Local: Invalid argument "
                       "(RD_KAFKA_RESP_ERR__INVALID_ARG) unless enable.auto.offset.store=false "
                       "(commit.strategy=store-after-processing needs it off)")
        config["enable.auto.offset.store"] = False
        if not config["enable.auto.commit"]:
            raise _bad("commit.strategy", strategy,
                       "with enable.auto.commit=false the stored offsets are never committed; "
                       "keep auto-commit on (the background timer commits what was stored)")
    if strategy == "auto" and not config["enable.auto.commit"]:
        raise _bad("commit.strategy", strategy,
                   "with enable.auto.commit=false nothing would ever commit; choose a manual "
                   "strategy (before-processing, per-record, per-batch, async-per-batch)")
    if strategy == "transaction" and not config["transactional.id"]:
        raise _bad("commit.strategy", strategy, "needs a transactional.id on the producer")
    if strategy == "transaction" and not config["pipeline"]:
        raise _bad("commit.strategy", strategy, "offsets go in a transaction only in a "
                                                "consume-transform-produce pipeline (pipeline=true)")
    if config["pipeline"] and config["enable.auto.commit"] and strategy == "transaction":
        raise _bad("enable.auto.commit", True, "a transactional pipeline must not auto-commit: "
                                               "its offsets are committed by the transaction")


def markdown_table() -> str:
    """Every property with both client models' defaults: docs/configuration.md is this."""

    def show(v: Any, p: Property | None = None) -> str:
        if p is not None and p.only and p.only != "java":
            return f"({p.only} only)"
        return "(none)" if v is None else f"`{str(v).lower() if isinstance(v, bool) else v}`"

    rows = ["| property | Kafka? | Java default | librdkafka default | allowed | meaning |",
            "|---|---|---|---|---|---|"]
    for p in PROPERTIES.values():
        if p.choices:
            allowed = " / ".join(p.choices)
        elif p.kind in ("int", "float"):
            allowed = (f"{'−∞' if p.low is None else _fmt(p.low)} … "
                       f"{'∞' if p.high is None else _fmt(p.high)}")
        else:
            allowed = p.kind
        if p.rdkafka_values:
            allowed += " (librdkafka also: " + ", ".join(
                f"{theirs} = {ours}" for theirs, ours in p.rdkafka_values) + ")"
        name = f"`{p.name}`"
        if p.rdkafka_names:
            name += " (librdkafka also: " + ", ".join(f"`{a}`" for a in p.rdkafka_names) + ")"
        rows.append(f"| {name} | {'yes' if p.kafka else 'kafkalab'} | {show(p.java, p)} | "
                    f"{show(p.librdkafka)} | {allowed} | {p.doc} |")
    return "\n".join(rows) + "\n"
