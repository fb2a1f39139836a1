"""A standalone librdkafka mock cluster driven through ctypes (broker-side fault injection).

.. warning::
   This module calls librdkafka's ``rd_kafka_mock_*`` C API, which librdkafka documents as
   "an experimental public API that is NOT covered by the librdkafka API or ABI stability
   guarantees". It is pinned to the librdkafka bundled with confluent-kafka
   :data:`~kafkalab.real._deps.TESTED_CONFLUENT_KAFKA` (librdkafka
   :data:`~kafkalab.real._deps.TESTED_LIBRDKAFKA`): :class:`MockCluster` refuses to start with
   any other librdkafka version. ``rd_kafka_mock_broker_push_request_error_rtts`` is a C variadic
   function; ctypes calls it correctly on Linux (x86-64 and aarch64) but not on Apple arm64,
   where variadic arguments travel on the stack, so that platform is refused too.

All ctypes code of kafkalab lives here. The rest of ``kafkalab.real`` only needs a mock cluster's
``bootstrap.servers`` string, which any ordinary client (and a spawned child process) can use.
The cluster's listeners are on 127.0.0.1 only.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import sys

from ._deps import TESTED_LIBRDKAFKA, require_confluent_kafka

#: Kafka protocol request keys used here.
API_PRODUCE = 0

_RD_KAFKA_PRODUCER = 0
_c_void_p = ctypes.c_void_p


class MockApiUnavailable(RuntimeError):
    """The experimental mock-cluster C API cannot be used with this client build/platform."""


_LIB: ctypes.CDLL | None = None


def _find_librdkafka() -> str:
    """Path of the librdkafka shared library bundled in the confluent-kafka wheel."""
    ck = require_confluent_kafka()
    site = os.path.dirname(os.path.dirname(os.path.abspath(ck.__file__)))
    candidates = sorted(
        glob.glob(os.path.join(site, "confluent_kafka.libs", "librdkafka*.so*"))
        + glob.glob(os.path.join(site, "confluent_kafka", ".dylibs", "librdkafka*.dylib"))
    )
    if not candidates:
        raise MockApiUnavailable(
            "no librdkafka bundled with confluent-kafka was found (a source build links a system "
            "librdkafka whose mock API version is unknown)"
        )
    return candidates[0]


def _lib() -> ctypes.CDLL:
    global _LIB
    if _LIB is not None:
        return _LIB
    if sys.platform == "darwin" and platform.machine() == "arm64":
        raise MockApiUnavailable("variadic ctypes calls are not supported on Apple arm64")
    ck = require_confluent_kafka()
    lib = ctypes.CDLL(_find_librdkafka())
    lib.rd_kafka_version_str.restype = ctypes.c_char_p
    lib.rd_kafka_version_str.argtypes = []
    version = lib.rd_kafka_version_str().decode()
    loaded = ck.libversion()[0]
    if version != TESTED_LIBRDKAFKA or loaded != TESTED_LIBRDKAFKA:
        raise MockApiUnavailable(
            f"the mock-cluster C API is experimental and pinned to librdkafka {TESTED_LIBRDKAFKA}; "
            f"found {version} (confluent_kafka reports {loaded})"
        )

    def sig(name: str, restype, *argtypes) -> None:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    sig("rd_kafka_conf_new", _c_void_p)
    sig("rd_kafka_conf_destroy", None, _c_void_p)
    sig(
        "rd_kafka_conf_set",
        ctypes.c_int,
        _c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
    )
    sig("rd_kafka_new", _c_void_p, ctypes.c_int, _c_void_p, ctypes.c_char_p, ctypes.c_size_t)
    sig("rd_kafka_destroy", None, _c_void_p)
    sig("rd_kafka_mock_cluster_new", _c_void_p, _c_void_p, ctypes.c_int)
    sig("rd_kafka_mock_cluster_destroy", None, _c_void_p)
    sig("rd_kafka_mock_cluster_bootstraps", ctypes.c_char_p, _c_void_p)
    sig("rd_kafka_mock_topic_create", ctypes.c_int, _c_void_p, ctypes.c_char_p, ctypes.c_int,
        ctypes.c_int)
    sig("rd_kafka_mock_start_request_tracking", None, _c_void_p)
    sig("rd_kafka_mock_stop_request_tracking", None, _c_void_p)
    sig("rd_kafka_mock_clear_requests", None, _c_void_p)
    sig("rd_kafka_mock_get_requests", ctypes.POINTER(_c_void_p), _c_void_p,
        ctypes.POINTER(ctypes.c_size_t))
    sig("rd_kafka_mock_request_api_key", ctypes.c_int16, _c_void_p)
    sig("rd_kafka_mock_request_destroy_array", None, ctypes.POINTER(_c_void_p), ctypes.c_size_t)
    # Replication crosscheck (issue 18): leader moves, brokers down/up, coordinators, errors.
    sig("rd_kafka_mock_partition_set_leader", ctypes.c_int, _c_void_p, ctypes.c_char_p,
        ctypes.c_int32, ctypes.c_int32)
    sig("rd_kafka_mock_broker_set_down", ctypes.c_int, _c_void_p, ctypes.c_int32)
    sig("rd_kafka_mock_broker_set_up", ctypes.c_int, _c_void_p, ctypes.c_int32)
    sig("rd_kafka_mock_coordinator_set", ctypes.c_int, _c_void_p, ctypes.c_char_p,
        ctypes.c_char_p, ctypes.c_int32)
    # Not variadic (the array form of rd_kafka_mock_push_request_errors): cluster-wide errors.
    sig("rd_kafka_mock_push_request_errors_array", None, _c_void_p, ctypes.c_int16,
        ctypes.c_size_t, ctypes.POINTER(ctypes.c_int))
    # Variadic: (mcluster, int32 broker_id, int16 ApiKey, size_t cnt, {int err, int rtt_ms}*cnt).
    # No argtypes: every argument is passed as an explicit ctypes object instead.
    lib.rd_kafka_mock_broker_push_request_error_rtts.restype = ctypes.c_int
    # consumer groups (kafkalab.real.groups): the classic group's first-join delay
    sig("rd_kafka_mock_group_initial_rebalance_delay_ms", None, _c_void_p, ctypes.c_int32)
    _LIB = lib
    return lib


class MockCluster:
    """A librdkafka mock cluster owned by a private, never-connecting ``rd_kafka_t`` handle.

    Use as a context manager; :attr:`bootstrap_servers` (127.0.0.1 listeners) is what clients
    connect to. Keep the object alive while any client uses the cluster.
    """

    def __init__(self, num_brokers: int = 1) -> None:
        lib = _lib()
        self._lib = lib
        conf = lib.rd_kafka_conf_new()
        errstr = ctypes.create_string_buffer(512)
        # The owner handle never connects anywhere (no bootstrap.servers); silence its warning.
        lib.rd_kafka_conf_set(conf, b"log_level", b"3", errstr, len(errstr))
        rk = lib.rd_kafka_new(_RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
        if not rk:
            lib.rd_kafka_conf_destroy(conf)
            raise MockApiUnavailable(f"rd_kafka_new failed: {errstr.value.decode()}")
        mc = lib.rd_kafka_mock_cluster_new(rk, int(num_brokers))
        if not mc:
            lib.rd_kafka_destroy(rk)
            raise MockApiUnavailable("rd_kafka_mock_cluster_new failed")
        self._rk: int | None = rk
        self._mc: int | None = mc
        self.num_brokers = int(num_brokers)
        self.bootstrap_servers: str = lib.rd_kafka_mock_cluster_bootstraps(mc).decode()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Destroy the cluster and its owner handle (clients of it must be closed first)."""
        if self._mc:
            self._lib.rd_kafka_mock_cluster_destroy(self._mc)
            self._mc = None
        if self._rk:
            self._lib.rd_kafka_destroy(self._rk)
            self._rk = None

    def __enter__(self) -> MockCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _cluster(self) -> int:
        if not self._mc:
            raise RuntimeError("mock cluster is closed")
        return self._mc

    # -- topics ----------------------------------------------------------------------------
    def create_topic(self, topic: str, partitions: int = 1, replication_factor: int = 1) -> None:
        err = self._lib.rd_kafka_mock_topic_create(
            self._cluster(), topic.encode(), int(partitions), int(replication_factor)
        )
        if err:
            raise RuntimeError(f"rd_kafka_mock_topic_create({topic!r}) failed: error {err}")

    # -- consumer groups -------------------------------------------------------------------
    def set_group_initial_rebalance_delay_ms(self, delay_ms: int) -> None:
        """The broker setting group.initial.rebalance.delay.ms (the mock's default is 3000):
        how long the first JoinGroup of an empty classic group waits for more members. Keep it
        below the members' session.timeout.ms: the mock expires a member whose JoinGroup waits
        longer than its session (rdkafka_mock_cgrp.c)."""
        self._lib.rd_kafka_mock_group_initial_rebalance_delay_ms(self._cluster(), int(delay_ms))

    # -- fault injection -------------------------------------------------------------------
    def push_request_error_rtts(
        self, broker_id: int, api_key: int, errors_and_rtts: list[tuple[int, int]]
    ) -> None:
        """The next ``len(errors_and_rtts)`` requests of ``api_key`` to ``broker_id`` are answered
        with (error code, after rtt_ms). Error 0 with a delay = a late but successful response:
        the broker has already applied the request when the client gives up waiting."""
        args: list[object] = []
        for err, rtt in errors_and_rtts:
            args += [ctypes.c_int(int(err)), ctypes.c_int(int(rtt))]
        rc = self._lib.rd_kafka_mock_broker_push_request_error_rtts(
            _c_void_p(self._cluster()),
            ctypes.c_int32(int(broker_id)),
            ctypes.c_int16(int(api_key)),
            ctypes.c_size_t(len(errors_and_rtts)),
            *args,
        )
        if rc:
            raise RuntimeError(f"rd_kafka_mock_broker_push_request_error_rtts failed: error {rc}")

    def delay_produce_responses(self, delays_ms: list[int], broker_id: int = 1) -> None:
        """Delay the next Produce responses (successful ones) by ``delays_ms``."""
        self.push_request_error_rtts(broker_id, API_PRODUCE, [(0, d) for d in delays_ms])

    def push_request_errors(self, api_key: int, errors: list[int]) -> None:
        """The next ``len(errors)`` requests of ``api_key`` to any broker of the cluster are
        answered with these error codes, in order (``rd_kafka_mock_push_request_errors_array``).
        On a Produce request the mock returns the error without appending the batch
        (``rd_kafka_mock_handle_Produce``)."""
        arr = (ctypes.c_int * len(errors))(*[int(e) for e in errors])
        self._lib.rd_kafka_mock_push_request_errors_array(
            self._cluster(), int(api_key), len(errors), arr)

    def set_partition_leader(self, topic: str, partition: int, broker_id: int) -> None:
        """Move a partition's leader (the mock bumps its leader epoch); its one log stays."""
        err = self._lib.rd_kafka_mock_partition_set_leader(
            self._cluster(), topic.encode(), int(partition), int(broker_id))
        if err:
            raise RuntimeError(f"rd_kafka_mock_partition_set_leader failed: error {err}")

    def set_broker_down(self, broker_id: int) -> None:
        """Disconnect the broker and refuse new connections (no leader change by itself)."""
        err = self._lib.rd_kafka_mock_broker_set_down(self._cluster(), int(broker_id))
        if err:
            raise RuntimeError(f"rd_kafka_mock_broker_set_down failed: error {err}")

    def set_broker_up(self, broker_id: int) -> None:
        err = self._lib.rd_kafka_mock_broker_set_up(self._cluster(), int(broker_id))
        if err:
            raise RuntimeError(f"rd_kafka_mock_broker_set_up failed: error {err}")

    def set_coordinator(self, key_type: str, key: str, broker_id: int) -> None:
        """Pin the coordinator of a group (``key_type="group"``) or transactional id."""
        err = self._lib.rd_kafka_mock_coordinator_set(
            self._cluster(), key_type.encode(), key.encode(), int(broker_id))
        if err:
            raise RuntimeError(f"rd_kafka_mock_coordinator_set failed: error {err}")

    # -- request tracking ------------------------------------------------------------------
    def start_request_tracking(self) -> None:
        self._lib.rd_kafka_mock_start_request_tracking(self._cluster())

    def stop_request_tracking(self) -> None:
        self._lib.rd_kafka_mock_stop_request_tracking(self._cluster())

    def count_requests(self, api_key: int) -> int:
        """How many tracked requests of ``api_key`` the cluster received."""
        cnt = ctypes.c_size_t(0)
        arr = self._lib.rd_kafka_mock_get_requests(self._cluster(), ctypes.byref(cnt))
        if not arr:
            return 0
        try:
            return sum(
                1 for i in range(cnt.value) if self._lib.rd_kafka_mock_request_api_key(arr[i])
                == api_key
            )
        finally:
            self._lib.rd_kafka_mock_request_destroy_array(arr, cnt.value)


def mock_api_problem() -> str | None:
    """None when :class:`MockCluster` can be used here, else the reason it cannot."""
    try:
        _lib()
    except MockApiUnavailable as exc:
        return str(exc)
    return None
