"""explain(message_id): the causal chain behind one message's fate, in plain English.

Built from the trace and the ledger only, so it explains what the model *did*.
"""

from __future__ import annotations

from .events import Event
from .ledger import Ledger, MessageLedger


def _t(t: float) -> str:
    return f"t={t:g} ms"


def explain(ledger: Ledger, message_id: int) -> str:
    if not 0 <= message_id < len(ledger.messages):
        raise ValueError(f"message {message_id!r} is not in this run (ids 0–"
                         f"{len(ledger.messages) - 1})")
    rec = ledger.messages[message_id]
    lines: list[str] = []
    verdict = _verdict(ledger, rec)
    lines.append(f"Message {message_id}: {verdict}.")
    if not rec.sends:
        lines.append("The application never sent it (the run stopped first).")
        return " ".join(lines)
    assert rec.first_send is not None  # it was sent
    lines.append(f"Sent at {_t(rec.first_send)}" + (f" ({rec.sends} times by the application)"
                                                    if rec.sends > 1 else "") + ".")
    lines.extend(_produce_story(ledger, message_id))
    copies = rec.copies
    if ledger.observed_topic == "output":
        lines.append(f"The transform produced it {rec.transformed} time(s) into the output "
                     "topic.")
    if copies:
        where = "; ".join(
            f"partition {c.partition} offset {c.offset} ({_t(c.t)}, {c.producer}"
            + (f", {c.status} transaction" if c.status != "none" else "") + ")"
            for c in copies)
        lines.append(f"In the {ledger.observed_topic} log: {where}.")
    elif rec.truncated:
        c = rec.truncated[-1]
        lines.append(f"It was written to the {c.topic} log at partition {c.partition} offset "
                     f"{c.offset} ({_t(c.t)}), and no copy of it is there any more.")
    elif rec.attempts or rec.transformed:
        lines.append(f"It never reached the {ledger.observed_topic} log.")
    if rec.acked and rec.confirmed:
        lines.append("The producer application got an acknowledgement.")
    elif rec.acked:  # acks=0: the send callback fires once the request is on the wire
        lines.append("The producer's send callback reported success without an offset "
                     "(acks=0: the broker sends no acknowledgement).")
    elif rec.gave_up:
        lines.append("The producer gave up on it and the application was told (send callback "
                     "error).")
    for actor, p, off, t in rec.deliveries[:3]:
        lines.append(f"Delivered to {actor} at {_t(t)} (partition {p}, offset {off}).")
    if len(rec.deliveries) > 3:
        lines.append(f"Delivered {len(rec.deliveries)} times in all, the last at "
                     f"{_t(rec.deliveries[-1][3])}.")
    for t in rec.processed:
        lines.append(f"Processed into the sink at {_t(t)}.")
    if rec.ignored:
        lines.append(f"The idempotent sink ignored {rec.ignored} repeat(s).")
    if rec.truncated:
        lines.extend(_truncation_story(ledger, rec))
    if rec.copies and not rec.processed and ledger.drained:
        lines.extend(_why_lost(ledger, rec))
    if not rec.processed and not ledger.drained:
        lines.extend(_why_unseen(ledger, rec))
    if len(rec.processed) > 1:
        lines.extend(_why_redelivered(ledger, rec))
    return " ".join(lines)


def _truncation_story(ledger: Ledger, rec: MessageLedger) -> list[str]:
    """Replication: how a leader change took this message's copy out of the log, told from the
    events' fields (ack, broker_crash, leader_elected, truncated)."""
    out: list[str] = []
    m = rec.id
    copy = rec.truncated[-1]
    p, off = copy.partition, copy.offset
    events = ledger.trace.events
    ack = next((e for e in events if e.kind == "ack" and m in e.data.get("messages", ())
                and e.data.get("topic") == copy.topic), None)
    election = next((e for e in events if e.kind == "leader_elected" and e.t >= copy.t
                     and e.data["topic"] == copy.topic and e.data["partition"] == p
                     and e.data.get("lost_from") is not None and e.data["lost_from"] <= off),
                    None)
    if election is not None and ack is not None and ack.t > election.t:
        ack = None  # acknowledged later, for a copy written again: not this copy's story
    if ack is not None and "broker" in ack.data:
        out.append(f"It was acknowledged at {_t(ack.t)} by the leader on broker "
                   f"{ack.data['broker']} with acks={ack.data['acks']} (partition {p}, offset "
                   f"{off}).")
    if election is None:
        return out
    d = election.data
    if ack is None:
        out.append(f"Its copy at partition {p} offset {off} (written at {_t(copy.t)}, never "
                   "acknowledged) was taken out of the log by a leader change.")
    crash = None
    for e in events:
        if e.t > election.t:
            break
        if e.kind == "broker_crash" and e.data["broker"] == d["previous"]:
            crash = e
    if crash is not None:
        how = "its machine failed" if crash.data["machine"] else "its process crashed"
        out.append(f"Broker {d['previous']} ({how}) went down at {_t(crash.t)} before the new "
                   f"leader had fetched offset {off}.")
        lost_here = next((e for e in events if e.kind == "truncated" and e.t == crash.t
                          and e.data["broker"] == d["previous"] and e.data["partition"] == p
                          and e.data["start"] <= off < e.data["end"]), None)
        if lost_here is not None:
            out.append(f"Offsets {lost_here.data['start']}–{lost_here.data['end'] - 1} had not "
                       f"been flushed to its disk, so its own log lost them too.")
    out.append(f"At {_t(election.t)} broker {d['leader']} became leader with epoch {d['epoch']}"
               + (" in an unclean election (it was not in the ISR)" if d["unclean"] else
                  f" (from the ISR {d['isr']})")
               + f"; its log ended at offset {d['leo']}, so offsets from {d['lost_from']} were "
               "no longer in the partition.")
    for e in events:
        if e.kind == "truncated" and e.t > election.t and e.data["partition"] == p \
                and e.data["topic"] == copy.topic and m in e.data["messages"]:
            out.append(f"At {_t(e.t)} broker {e.data['broker']} truncated offsets "
                       f"{e.data['start']}–{e.data['end'] - 1} to follow leader epoch "
                       f"{e.data.get('leader_epoch')} (the end of the last epoch it shared "
                       f"with the leader: offset {e.data.get('end_offset')}).")
    if rec.confirmed and not rec.copies and not rec.input_copies:
        out.append("The producer had been told it was written, so it never sent it again: "
                   "lost after it was acknowledged.")
    return out


def _verdict(ledger: Ledger, rec: MessageLedger) -> str:
    n = len(rec.processed)
    if rec.sends and n == 0 and ledger.drained and rec.confirmed and rec.truncated \
            and not rec.copies:
        return "LOST AFTER IT WAS ACKNOWLEDGED (a leader change took it out of the log)"
    if rec.sends and n == 0:
        return "LOST (never processed)" if ledger.drained else "not processed yet (unseen)"
    if n > 1:
        return f"DUPLICATE (processed {n} times)"
    if len(rec.visible_copies) > 1:
        return f"processed once, but written {len(rec.visible_copies)} times to the log"
    return "processed exactly once" if n == 1 else "not sent"


def _produce_story(ledger: Ledger, m: int) -> list[str]:
    out = []
    rec = ledger.messages[m]
    written = rec.copies[0].t if rec.copies else float("inf")
    for e in ledger.trace.events:
        about_m = e.kind in ("ack_lost", "request_lost", "retry", "duplicate_batch", "gave_up",
                             "rejected") and m in e.data.get("messages", ())
        restart = e.kind == "producer_restart" or (e.kind == "init_producer" and "#" in e.actor)
        # an epoch bump between its send and its write renumbered it (KIP-360)
        bump = e.kind == "epoch_bump" and rec.first_send is not None \
            and rec.first_send <= e.t <= written
        if about_m or restart or bump:
            out.append(f"At {_t(e.t)}: {e.text}.")
    return out


def _how(event: Event, partition: int) -> str:
    """How a join/restart/rebalance chose its offset for ``partition``, as the trace says."""
    how: str = event.data["resumed"][str(partition)][1]
    return "the committed offset" if how == "committed offset" else \
        f"no committed offset: {how}"


def _copy_offsets(rec: MessageLedger) -> set[tuple[int, int]]:
    return {(c.partition, c.offset) for c in rec.visible_copies}


def _why_lost(ledger: Ledger, rec: MessageLedger) -> list[str]:
    out = []
    events = ledger.trace.events
    sink = ledger.sink_prefix
    visible = rec.visible_copies
    if not visible:
        out.append("Every copy of it belongs to an aborted transaction, which read_committed "
                   "consumers skip.")
        return out
    copy = visible[0]
    p, off = copy.partition, copy.offset
    delivered_at = rec.deliveries[0][3] if rec.deliveries else None
    if not rec.deliveries:
        reset = next((e for e in events if e.kind in ("join", "restart", "rebalance")
                      and e.actor.startswith(sink) and str(p) in e.data["resumed"]
                      and e.data["resumed"][str(p)][0] > off
                      and str(p) in e.data.get("reset", {})), None)
        if reset is not None:
            out.append(f"With no committed offset, {reset.text}; offset {off} was before it, "
                       "so no consumer ever read it.")
            return out
    failures = [e for e in events
                if e.kind == "process_error" and e.data.get("message") == rec.id]
    errors = [f"At {_t(e.t)}: {e.text}." for e in failures[:2]]
    if len(failures) > 2:
        errors.append(f"It failed {len(failures)} times in all, the last at "
                      f"{_t(failures[-1].t)}.")
    commit = next((e for e in events if e.kind == "commit" and e.actor.startswith(sink)
                   and e.data["offsets"].get(str(p), -1) > off), None)
    if commit is not None:
        how = commit.data["how"]
        out.append(f"Offset {commit.data['offsets'][str(p)]} was committed at {_t(commit.t)} "
                   f"({how}) although offset {off} had not been processed: the committed offset "
                   "ran ahead of processing.")
        after = commit.t if delivered_at is None else min(commit.t, delivered_at)
        stop = next((e for e in events if e.t >= after and e.kind in ("crash", "close")
                     and e.actor.startswith(sink)), None)
        out.extend(errors)
        if stop is not None:
            out.append(f"At {_t(stop.t)}: {stop.text}.")
        resume = next((e for e in events if e.t >= commit.t and e.kind in ("restart",
                                                                            "rebalance")
                       and e.actor.startswith(sink)
                       and e.data["resumed"].get(str(p), [-1])[0] > off), None)
        if resume is not None:
            who = "The restarted consumer" if resume.kind == "restart" else resume.actor
            out.append(f"{who} resumed at offset {resume.data['resumed'][str(p)][0]} of "
                       f"partition {p} ({_how(resume, p)}), past offset {off}, so it was never "
                       "read again.")
    else:
        out.extend(errors)
    return out


def _why_redelivered(ledger: Ledger, rec: MessageLedger) -> list[str]:
    out = []
    events = ledger.trace.events
    sink = ledger.sink_prefix
    first, second = rec.processed[0], rec.processed[1]
    offs = {(p, off) for _, p, off, _ in rec.deliveries}
    for e in events:
        if first <= e.t <= second and e.actor.startswith(sink) and e.kind in (
                "crash", "close", "left_group", "commit_failed"):
            out.append(f"At {_t(e.t)}: {e.text}.")
        if first <= e.t <= second and e.actor.startswith(sink) and e.kind in (
                "restart", "rebalance"):
            for p, (at, how) in sorted(e.data["resumed"].items()):
                if not any(int(p) == dp and at <= o for dp, o in offs):
                    continue
                if how == "committed offset":
                    why = f"{e.actor} resumed partition {p} from the committed offset {at}"
                else:  # nothing was committed for this partition: auto.offset.reset chose
                    why = (f"{e.actor} found no committed offset for partition {p}, so {how} "
                           f"chose offset {at}")
                out.append(f"At {_t(e.t)}: {why}, at or before this message, so it was "
                           "delivered and processed again.")
    if len(rec.visible_copies) > 1:
        out.append(f"The log holds {len(rec.visible_copies)} copies of it, and each copy was "
                   "processed.")
    return out


def _why_unseen(ledger: Ledger, rec: MessageLedger) -> list[str]:
    """Why an undrained run never processed this message: the cause named from the trace's
    fields (a crash loop, the watchdog, a transaction never committed), never a guess."""
    events = ledger.trace.events
    stops = [e for e in events if e.kind in ("crash_loop", "stopped")]
    if stops:
        return [f"At {_t(e.t)}: {e.text.rstrip('.')}." for e in stops]
    visible = [c for c in rec.copies if c.status != "aborted"]
    if visible and all(c.status == "open" for c in visible):
        c = visible[0]
        return [f"Its copy at partition {c.partition} offset {c.offset} belongs to a transaction "
                "that was never committed, so the last stable offset never moved past it and a "
                "read_committed reader cannot read it (read_uncommitted would)."]
    last = events[-1].t if events else 0
    return [f"Nothing happened after {_t(last)}: nothing was left that could move it (or the "
            "run reached max.simulated.ms) before it was processed."]
