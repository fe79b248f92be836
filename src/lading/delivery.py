"""Delivery of bucket notification events from the outbox to their topics' push endpoints.

Every server process (and `lading worker`) runs one `Deliverer`. It polls the outbox with a
read, claims due rows with a lease (so two processes never send a row at once), publishes
them in id order and deletes them; a failed row comes back after an exponential backoff with
jitter, and a topic that failed has its later rows of the batch put back with it, so they are
not sent ahead of it. At-least-once: a process that dies after publishing and before deleting
leaves rows that another process sends again once their lease runs out.

AMQP goes through aio-pika (asyncio-native over aiormq, the maintained AMQP 0-9-1 client for
asyncio, with publisher confirms): `amqp-ack-level` none publishes without confirms, broker
waits for the broker's confirm, routable also asks that a queue took the message (mandatory);
`persistent` true makes delivery_mode 2. The exchange must exist (the consumer declares it,
as with RadosGW): a missing one is a failure retried later. HTTP endpoints get a POST of the
event JSON through httpx; any 2xx is a delivery. httpx connects only to addresses the
outbound policy checked (`_PinnedBackend`), never through a proxy; AMQP endpoints are checked
before connecting, and aio-pika resolves their names again (see lading.outbound).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import aio_pika
import aio_pika.abc
import httpcore
import httpx

from lading import errors, notifications
from lading.concurrency import run_blocking
from lading.metadata.events import EventStore, PendingEvent, Topic
from lading.metadata.store import now_us
from lading.outbound import OutboundPolicy
from lading.settings import EventSettings

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """An endpoint did not take an event; the row is tried again later."""


def amqp_url(topic: Topic) -> str:
    """The topic's AMQP URL with its TLS options (verify-ssl, ca-location) for aiormq."""
    endpoint = topic.attributes.get("push-endpoint", "")
    if not endpoint.startswith("amqps://"):
        return endpoint
    extra = []
    if not notifications.flag(topic.attributes, "verify-ssl", True):
        extra.append(("no_verify_ssl", "1"))
    if topic.attributes.get("ca-location"):
        extra.append(("cafile", topic.attributes["ca-location"]))
    if not extra:
        return endpoint
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(extra)


def backoff_us(attempts: int, settings: EventSettings, rand: Callable[[], float]) -> int:
    """Microseconds until the next try after `attempts` failures: exponential, jittered."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** min(attempts, 30))
    return int(ceiling * (0.5 + 0.5 * rand()) * 1_000_000)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the outbound policy checked.

    Why a backend and not the `sni_hostname` extension on a URL rewritten to an address:
    here httpx keeps everything of the URL (the Host header, TLS SNI and certificate
    verification by the name) and its pool keeps connections by the name, so a kept-alive
    TLS connection verified for one name never carries a request for another name that
    resolves to the same address. Only where the TCP connection goes changes.
    """

    def __init__(self, outbound: OutboundPolicy) -> None:
        self.outbound = outbound
        self.backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # DestinationNotAllowed when the name now resolves to a denied address
        addresses = await run_blocking(self.outbound.checked_addresses, host)
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        for address in addresses[:-1]:
            with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return await self.backend.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
        return await self.backend.connect_tcp(
            addresses[-1], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("push endpoints are not Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.backend.sleep(seconds)


def pinned_client(verify: bool, timeout: float, outbound: OutboundPolicy) -> httpx.AsyncClient:
    """An httpx client whose connections go only to addresses `outbound` checked.

    httpx's transport takes no network backend, so its pool (`_pool`, not public API) is
    replaced by one with the pinned backend and httpx's default limits; the rebinding tests
    (tests/unit/test_outbound_pinning.py) fail should httpx stop using it. A client given a
    transport uses no proxy from the environment, which would resolve the names itself.
    """
    transport = httpx.AsyncHTTPTransport(verify=verify)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_PinnedBackend(outbound),
    )
    return httpx.AsyncClient(transport=transport, timeout=timeout)


@dataclass
class _Amqp:
    connection: aio_pika.abc.AbstractConnection
    channels: dict[str, aio_pika.abc.AbstractChannel] = field(default_factory=dict)  # by ack level
    # exchanges found on those channels, by (ack level, name): one passive declare each
    exchanges: dict[tuple[str, str], aio_pika.abc.AbstractExchange] = field(default_factory=dict)


class Publisher:
    """Connections to push endpoints, opened on first use and dropped when they fail."""

    def __init__(self, timeout: float, outbound: OutboundPolicy) -> None:
        self.timeout = timeout
        self.outbound = outbound
        self._amqp: dict[str, _Amqp] = {}
        self._http: dict[bool, httpx.AsyncClient] = {}

    async def publish(self, topic: Topic, payload: str) -> None:
        """Send one event; raises DeliveryFailed (also for an endpoint the policy denies)."""
        endpoint = topic.attributes.get("push-endpoint", "")
        scheme = urlsplit(endpoint).scheme
        if scheme:
            try:  # again: what the name resolves to may have changed (also for a kept-alive
                # HTTP connection; a new one is checked and pinned as it is made)
                await run_blocking(self.outbound.check_url, endpoint)
            except errors.DestinationNotAllowed as exc:
                raise DeliveryFailed(exc.message) from exc
        try:
            if scheme in ("amqp", "amqps"):
                work = self._amqp_publish(topic, amqp_url(topic), payload)
                await asyncio.wait_for(work, self.timeout)
            elif scheme in ("http", "https"):
                await self._http_publish(topic, endpoint, payload)
            else:
                raise DeliveryFailed(f"topic {topic.name} has no push-endpoint")
        except DeliveryFailed:
            raise
        except errors.DestinationNotAllowed as exc:  # checked again as httpx connects
            raise DeliveryFailed(exc.message) from exc
        except (
            TimeoutError,
            OSError,
            ValueError,  # a URL the client cannot use
            RuntimeError,  # a client in a state it refuses to publish from
            httpx.HTTPError,
            aio_pika.exceptions.AMQPError,
        ) as exc:
            if scheme.startswith("amqp"):
                await self._drop(amqp_url(topic))
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(
        self, endpoint: str, level: str, name: str
    ) -> aio_pika.abc.AbstractExchange:
        """The exchange `name` on a channel of the ack level's kind (connected on demand)."""
        held = self._amqp.get(endpoint)
        if held is None or held.connection.is_closed:
            connection = await aio_pika.connect(endpoint, timeout=self.timeout)
            held = self._amqp[endpoint] = _Amqp(connection)
        channel = held.channels.get(level)
        if channel is None or channel.is_closed:
            confirms = level != "none"
            channel = await held.connection.channel(
                publisher_confirms=confirms, on_return_raises=confirms
            )
            held.channels[level] = channel
            held.exchanges = {k: v for k, v in held.exchanges.items() if k[0] != level}
        exchange = held.exchanges.get((level, name))
        if exchange is None:
            try:
                exchange = await channel.get_exchange(name, ensure=True)
            except aio_pika.exceptions.ChannelClosed as exc:  # 404: no such exchange
                raise DeliveryFailed(f"exchange: {exc}") from exc
            held.exchanges[(level, name)] = exchange
        return exchange

    async def _amqp_publish(self, topic: Topic, endpoint: str, payload: str) -> None:
        attributes = topic.attributes
        level = attributes.get("amqp-ack-level", "broker")
        exchange = await self._exchange(endpoint, level, attributes.get("amqp-exchange", ""))
        persistent = notifications.flag(attributes, "persistent", False)
        message = aio_pika.Message(
            payload.encode("utf-8"),
            content_type="application/json",
            delivery_mode=(
                aio_pika.DeliveryMode.PERSISTENT
                if persistent
                else aio_pika.DeliveryMode.NOT_PERSISTENT
            ),
        )
        # with confirms, a nack raises DeliveryError and an unroutable message (routable:
        # mandatory) PublishError, both AMQPErrors
        await exchange.publish(message, routing_key=topic.name, mandatory=level == "routable")

    async def _http_publish(self, topic: Topic, endpoint: str, payload: str) -> None:
        verify = notifications.flag(topic.attributes, "verify-ssl", True)
        client = self._http.get(verify)
        if client is None:
            client = self._http[verify] = pinned_client(verify, self.timeout, self.outbound)
        response = await client.post(
            endpoint, content=payload, headers={"content-type": "application/json"}
        )
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"{endpoint} answered {response.status_code}")

    async def _drop(self, endpoint: str) -> None:
        held = self._amqp.pop(endpoint, None)
        if held is not None:
            with contextlib.suppress(Exception):  # already broken: closing is best effort
                await held.connection.close()

    async def close(self) -> None:
        for endpoint in list(self._amqp):
            await self._drop(endpoint)
        for client in self._http.values():
            await client.aclose()
        self._http.clear()


class Deliverer:
    """Claims due outbox rows and publishes them; one per process."""

    def __init__(
        self,
        events: EventStore,
        settings: EventSettings,
        *,
        outbound: OutboundPolicy,
        clock: Callable[[], int] = now_us,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.events = events
        self.settings = settings
        self.clock = clock
        self.rand = rand
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.publisher = Publisher(settings.publish_timeout_seconds, outbound)
        self._last_trim = 0

    async def run(self) -> None:
        """Deliver until cancelled; the rows this process still holds are given back."""
        try:
            while True:
                try:
                    sent = await self.deliver_once()
                except Exception:  # the database or a bug: the next poll tries again
                    log.exception("event delivery failed")
                    sent = 0
                if not sent:
                    await asyncio.sleep(self.settings.delivery_seconds)
        finally:
            with contextlib.suppress(Exception):
                await self.publisher.close()
            with contextlib.suppress(Exception):
                await run_blocking(self.events.release, self.owner)

    async def drain(self) -> int:
        """Deliver every due event (until a claim finds none); returns how many."""
        total = 0
        try:
            while sent := await self.deliver_once():
                total += sent
        finally:
            await self.publisher.close()
            await run_blocking(self.events.release, self.owner)
        return total

    async def deliver_once(self) -> int:
        """One claim and its deliveries; returns how many events were delivered."""
        now = self.clock()
        await self._trim(now)
        if not await run_blocking(self.events.has_due, now):
            return 0
        lease_until = now + int(self.settings.lease_seconds * 1_000_000)
        batch = await run_blocking(
            self.events.claim, self.owner, self.settings.batch_size, lease_until, now
        )
        if not batch:
            return 0
        topics = await run_blocking(self.events.topics_by_id, [e.topic_id for e in batch])
        by_topic: dict[int, list[PendingEvent]] = {}
        for event in batch:
            by_topic.setdefault(event.topic_id, []).append(event)
        results = await asyncio.gather(
            *(self._send(topics.get(topic_id), rows) for topic_id, rows in by_topic.items())
        )
        return sum(results)

    async def _send(self, topic: Topic | None, rows: list[PendingEvent]) -> int:
        """Publish one topic's rows in order; stop at the first failure."""
        done: list[int] = []
        try:
            for index, event in enumerate(rows):
                if topic is None:  # the topic went away with its rows: nothing to send
                    done.append(event.id)
                    continue
                try:
                    await self.publisher.publish(topic, event.payload)
                except DeliveryFailed as exc:
                    rest = rows[index:]
                    delay = backoff_us(event.attempts, self.settings, self.rand)
                    log.warning(
                        "events for topic %s not delivered (%s); %d retried in %.1f s",
                        topic.name,
                        exc,
                        len(rest),
                        delay / 1e6,
                    )
                    await run_blocking(
                        self.events.retry_later,
                        self.owner,
                        [e.id for e in rest],
                        self.clock() + delay,
                        str(exc),
                    )
                    break
                done.append(event.id)
        finally:
            await run_blocking(self.events.delivered, self.owner, done)
        return len(done)

    async def _trim(self, now: int) -> None:
        """Apply the outbox bounds every trim_seconds."""
        if now - self._last_trim < self.settings.trim_seconds * 1_000_000:
            return
        self._last_trim = now
        cutoff = now - int(self.settings.max_age_seconds * 1_000_000)
        dropped = await run_blocking(self.events.trim, self.settings.max_pending_per_topic, cutoff)
        if dropped:
            log.warning(
                "dropped %d undelivered events past the outbox bounds (max_age_seconds=%s, "
                "max_pending_per_topic=%s)",
                dropped,
                self.settings.max_age_seconds,
                self.settings.max_pending_per_topic,
            )
