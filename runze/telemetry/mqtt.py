"""MQTT subscriber for readings (paho-mqtt 2.x): batches messages, stores each batch, then acknowledges it.

Topic ``<prefix>/<sensor_id>`` (prefix ``runze/readings``), payload ``{"t": ..., "v": ..., "unit": ..., "q": ...}``
(runze.telemetry.messages validates it).  Delivery guarantee — *a reading acknowledged is a reading stored*:

* QoS 1 with **manual acknowledgements** (``Client(..., manual_ack=True)``): paho does not send PUBACK by itself;
  :class:`Subscriber` calls ``client.ack(mid, qos)`` for a batch's messages only after ``store_batch`` returned,
  i.e. after the database commit.  A process killed before that commit leaves its messages unacknowledged.
* **Persistent session**: a fixed client id, MQTT 5 with ``clean_start=False`` and a session expiry interval, so
  the broker keeps the subscription and the unacknowledged and queued messages while the subscriber is down and
  delivers them again when it reconnects.  Redelivered readings are stored once (primary key sensor + time).
* MQTT 5's **Receive Maximum** lets the broker keep more than Mosquitto's default 20 unacknowledged messages in
  flight to us, so a batch can be large (the broker's ``max_queued_messages``, 1000 by default, bounds what it
  keeps for us while we are offline: raise it on a production broker).

The store callback is given by the caller (the CLI wires runze.ops.telemetry.ingest_messages), so this module
has no database code.  If the callback raises (database down) the batch is kept, not acknowledged, and retried.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from runze.telemetry.messages import Message

log = logging.getLogger("runze.telemetry.mqtt")
SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our session (and queued readings) a week
RECEIVE_MAXIMUM = 10_000


def parse_broker(url: str) -> tuple[str, int]:
    """("host", port) from ``mqtt://host:port`` (or ``host:port`` / ``host``)."""
    if "://" not in url:
        url = "mqtt://" + url
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"broker URL {url!r} is not mqtt://HOST:PORT")
    return parsed.hostname, parsed.port or 1883


@dataclass
class SubscriberStats:
    received: int = 0
    stored_batches: int = 0
    acknowledged: int = 0
    failures: int = 0


class Subscriber:
    """Receive readings, hand them to ``store_batch`` in batches, acknowledge after it returns."""

    def __init__(self, broker: str, store_batch: Callable[[list[Message]], Any], *, client_id: str,
                 prefix: str = "runze/readings", batch_size: int = 5000, flush_s: float = 0.25,
                 retry_s: float = 2.0, on_ready: Callable[[], None] | None = None) -> None:
        self.host, self.port = parse_broker(broker)
        self.store_batch = store_batch
        self.prefix = prefix.rstrip("/")
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.retry_s = retry_s
        self.on_ready = on_ready
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.stats = SubscriberStats()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)

    # ---- paho callbacks (network thread): never block here
    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any) -> None:
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        client.subscribe(f"{self.prefix}/+", qos=1)

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int, reason_codes: Any, _props: Any) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            if not self.subscribed.is_set():
                self.subscribed.set()
                if self.on_ready:
                    self.on_ready()
        else:
            log.error("subscription refused: %s", reason_codes)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Message(msg.topic, msg.payload, datetime.now(UTC), msg.mid, msg.qos))

    # ---- main loop (caller's thread)
    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def _next_batch(self, stop: threading.Event) -> list[Message]:
        batch: list[Message] = []
        try:
            batch.append(self.inbox.get(timeout=0.2))
        except queue.Empty:
            return batch
        deadline = time.monotonic() + self.flush_s
        while len(batch) < self.batch_size and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def run(self, stop: threading.Event | None = None) -> SubscriberStats:
        """Connect, then store and acknowledge batches until ``stop`` is set; acknowledged = committed."""
        stop = stop or threading.Event()
        self.connect()
        try:
            while not stop.is_set():
                batch = self._next_batch(stop)
                if not batch:
                    continue
                self.stats.received += len(batch)
                while True:
                    try:
                        self.store_batch(batch)
                        break
                    except Exception:  # database down or refusing: keep the batch, do not ack, retry
                        self.stats.failures += 1
                        log.exception("storing a batch of %d readings failed; retrying in %.0f s", len(batch),
                                      self.retry_s)
                        if stop.wait(self.retry_s):
                            return self.stats  # stopping: the broker redelivers the unacknowledged batch
                for m in batch:
                    if m.qos > 0:
                        self.client.ack(m.mid, m.qos)
                self.stats.stored_batches += 1
                self.stats.acknowledged += len(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats


def connect_publisher(broker: str, client_id: str = "") -> mqtt.Client:
    """A connected publishing client (network loop running); the caller disconnects it."""
    host, port = parse_broker(broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(200)
    client.connect(host, port, keepalive=30)
    client.loop_start()
    return client


def publish_readings(broker: str, readings: list[tuple[str, dict]], *, prefix: str = "runze/readings",
                     client_id: str = "", qos: int = 1, rate: float | None = None,
                     timeout_s: float = 60.0, client: mqtt.Client | None = None) -> int:
    """Publish (sensor_id, payload dict or raw bytes) pairs; waits until the broker confirmed each (QoS 1)."""
    import json

    own = client is None
    if client is None:
        client = connect_publisher(broker, client_id)
    infos = []
    try:
        start = time.monotonic()
        for k, (sid, payload) in enumerate(readings):
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            infos.append(client.publish(f"{prefix.rstrip('/')}/{sid}", body, qos=qos))
            if rate:
                delay = start + (k + 1) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(timeout=max(0.1, deadline - time.monotonic()))
        return sum(1 for info in infos if info.is_published())
    finally:
        if own:
            client.disconnect()
            client.loop_stop()


def forget_session(broker: str, client_id: str) -> None:
    """Ask the broker to drop a persistent session (subscription and queued messages) of ``client_id``."""
    host, port = parse_broker(broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect(host, port, keepalive=10, clean_start=True, properties=props)
    client.loop_start()
    try:
        deadline = time.monotonic() + 5.0
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
