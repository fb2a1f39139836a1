"""The cluster: brokers, each partition's replica assignment and its leader (issue 18).

``brokers=1`` with ``replication.factor=1`` (the defaults) is the single-replica model the rest
of kafkalab was built on: no replication object exists and nothing here runs.

Placement follows Kafka's striped placer in its simplest form (no racks): partition ``p``'s
replicas are brokers ``p, p+1, ...`` modulo ``brokers``, the first one its preferred leader, so
leaders are spread over the brokers (``StripedReplicaPlacer``).
"""

from __future__ import annotations

from typing import Any

from .config import ConfigError


def check_cluster(config: dict[str, Any]) -> None:
    """Refuse what CreateTopics would refuse, and what this model does not simulate yet."""
    brokers, rf = config["brokers"], config["replication.factor"]
    if rf > brokers:
        # KRaft's placer (StripedReplicaPlacer) answers CreateTopics with this error
        raise ConfigError(f"Invalid value {rf} for configuration replication.factor: "
                          f"INVALID_REPLICATION_FACTOR: The target replication factor of {rf} "
                          f"cannot be reached because only {brokers} broker(s) are registered "
                          f"(set brokers to at least {rf})")
    if config["min.insync.replicas"] > rf:
        # Real Kafka creates the topic and then refuses every acks=all write with
        # NOT_ENOUGH_REPLICAS; this model does not simulate NOT_ENOUGH_REPLICAS yet.
        raise ConfigError(
            f"kafkalab: min.insync.replicas={config['min.insync.replicas']} is above "
            f"replication.factor={rf}: real Kafka would accept the topic and refuse every "
            "acks=all write with NOT_ENOUGH_REPLICAS, which this model does not simulate yet; "
            "use at most replication.factor", kafka=False)


def replicated(config: dict[str, Any]) -> bool:
    """True when partitions have followers (otherwise the single-replica model runs)."""
    return bool(config["replication.factor"] > 1)


def assignment(partition: int, brokers: int, rf: int) -> list[int]:
    """Partition ``partition``'s replicas, preferred leader first."""
    return [(partition + i) % brokers for i in range(rf)]
