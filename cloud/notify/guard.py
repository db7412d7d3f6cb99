"""Where a webhook may be sent: no server-side request forgery.

A webhook URL is chosen by whoever subscribes, and the notifier POSTs to it
from inside our network. Without a guard, a subscriber could make the cloud
call its own admin endpoints (`http://127.0.0.1:8000/...`), a database on
the private network, or the cloud provider's metadata service
(`http://169.254.169.254/...`, which hands out credentials).

The rule: a webhook goes only to *public* (globally routable) addresses.
Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10,
the metadata address among them), unspecified, multicast, reserved, shared
(100.64/10), site-local and the other special-purpose ranges are refused,
also when they hide inside an IPv6 address (`::ffff:127.0.0.1`, 6to4,
NAT64). An admin may allowlist networks or host names
(`AddressPolicy.from_allowlist(["10.20.0.0/16", "erp.internal"])`, the
`[notify] allow_private` setting); the allowlist serves only subscriptions
an admin made (`allow_private` on the subscription), never a tenant's.

The rule is applied twice:

* when subscribing (`subscription_problems`): every address the host
  resolves to now is checked, so the API answers 422 at once. A name that
  does not resolve yet is accepted: the second check decides.
* at every connection (`cloud.notify.transport`): the host is resolved
  once, *every* address is checked, and the connection goes to a checked
  address (never to a second lookup's answer), so a name that resolved to a
  public address at subscription time and to 127.0.0.1 now (DNS rebinding)
  is refused.

The resolver is a parameter (`Resolver`), so tests can play DNS without a
network. Lookups are bounded in time (`lookup`).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from urllib.parse import urlsplit

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

Resolver = Callable[[str], Sequence[str]]
"""A host name to the addresses it resolves to (text, IPv4 or IPv6); raises `OSError`
(e.g. `socket.gaierror`) when it does not resolve."""

DEFAULT_LOOKUP_TIMEOUT_S = 5.0

METADATA_ADDRESSES = frozenset({IPv4Address("169.254.169.254"), IPv6Address("fd00:ec2::254")})
"""Cloud instance metadata services (AWS, GCP, Azure, OpenStack...): credentials live there."""

_RFC1918 = (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/16"))
_UNIQUE_LOCAL = IPv6Network("fc00::/7")
_SIX_TO_FOUR = IPv6Network("2002::/16")


class Unresolvable(OSError):
    """A host name gave no address (no such name, no answer in time)."""


def system_resolver(host: str) -> list[str]:
    """The addresses `host` resolves to through the operating system (`getaddrinfo`)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public one (a few words), or None if it is globally routable.

    IPv4-mapped (`::ffff:a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`) addresses are
    judged by the IPv4 address they carry.
    """
    if isinstance(address, IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return non_public_reason(mapped)
        if address in _SIX_TO_FOUR and address.sixtofour is not None:
            inner = non_public_reason(address.sixtofour)
            if inner is not None:
                return f"6to4 of a {inner} address"
    if address in METADATA_ADDRESSES:
        return "cloud metadata service"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, IPv6Address) and address.is_site_local:
        return "site-local"
    if any(address in net for net in _RFC1918) or address in _UNIQUE_LOCAL:
        return "private"
    if address.is_private or address.is_reserved or not address.is_global:
        return "special-purpose, not globally routable"
    return None


def _parse_address(text: str) -> IPAddress | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


def _host_key(host: str) -> str:
    return host.strip().rstrip(".").lower()


def parse_allowlist(entries: Iterable[str]) -> tuple[tuple[IPNetwork, ...], frozenset[str]]:
    """(networks, host names) of allowlist entries: each a CIDR (`10.0.0.0/8`), an address
    (`10.1.2.3`, `::1`) or a host name (`erp.internal`). ValueError for anything else."""
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    for raw in entries:
        entry = raw.strip()
        try:
            networks.append(ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = _host_key(entry)
        labels = name.split(".")
        if not name or len(name) > 253 or not all(_is_label(label) for label in labels):
            raise ValueError(f"allowlist entry {raw!r} is neither a network, an address nor a host")
        hosts.add(name)
    return tuple(networks), frozenset(hosts)


def _is_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label.isascii()
        and all(c.isalnum() or c == "-" for c in label)
        and not label.startswith("-")
        and not label.endswith("-")
    )


def lookup(resolver: Resolver, host: str, timeout_s: float | None) -> list[IPAddress]:
    """The distinct addresses `host` resolves to (an address literal is itself), in the
    resolver's order, within `timeout_s`; `Unresolvable` if none.

    The resolver runs in a daemon thread, so a DNS server that never answers
    costs `timeout_s`, not the resolver's own (much longer) patience.
    """
    literal = _parse_address(host.strip("[]"))
    if literal is not None:
        return [literal]
    answers = _within(timeout_s, resolver, host)
    found: list[IPAddress] = []
    for text in answers:
        parsed = _parse_address(str(text).split("%")[0])  # drop an IPv6 scope (fe80::1%eth0)
        if parsed is not None and parsed not in found:
            found.append(parsed)
    if not found:
        raise Unresolvable(f"{host} resolves to no address")
    return found


def _within(timeout_s: float | None, resolver: Resolver, host: str) -> Sequence[str]:
    result: list[Sequence[str]] = []
    error: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            result.append(resolver(host))
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="webhook-dns", daemon=True).start()
    if not done.wait(timeout_s):
        raise Unresolvable(f"{host}: no DNS answer within {timeout_s:.1f} s")
    if error:
        exc = error[0]
        if isinstance(exc, (OSError, UnicodeError, ValueError)):
            raise Unresolvable(f"{host} does not resolve: {exc}") from exc
        raise exc
    return result[0]


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses webhooks may reach: public ones, plus for admin-made subscriptions
    (`private_ok`) the allowlisted networks and host names."""

    allow_networks: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)
    lookup_timeout_s: float = DEFAULT_LOOKUP_TIMEOUT_S

    @classmethod
    def from_allowlist(
        cls,
        entries: Iterable[str] = (),
        *,
        resolver: Resolver = system_resolver,
        lookup_timeout_s: float = DEFAULT_LOOKUP_TIMEOUT_S,
    ) -> AddressPolicy:
        """A policy allowlisting `entries` (see `parse_allowlist`)."""
        networks, hosts = parse_allowlist(entries)
        return cls(networks, hosts, resolver, lookup_timeout_s)

    def allowlisted(self, host: str, address: IPAddress) -> bool:
        """True if the allowlist names `host`, or a network holding `address`."""
        if _host_key(host) in self.allow_hosts:
            return True
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(
            a in net for a in candidates for net in self.allow_networks if a.version == net.version
        )

    def refusal(self, host: str, address: IPAddress, *, private_ok: bool) -> BlockedReason | None:
        """Why a connection to `address` (for `host`) is refused; None if it is allowed."""
        reason = non_public_reason(address)
        if reason is None or (private_ok and self.allowlisted(host, address)):
            return None
        return BlockedReason(host, str(address), reason)

    def resolve(self, host: str, timeout_s: float | None = None) -> list[IPAddress]:
        """`host`'s addresses, within `timeout_s` (default: `lookup_timeout_s`)."""
        limit = self.lookup_timeout_s
        if timeout_s is not None:
            limit = min(timeout_s, limit)
        return lookup(self.resolver, host, limit)


@dataclass(frozen=True)
class BlockedReason:
    """A refused address: the host asked for, the address it resolved to, and why."""

    host: str
    address: str
    reason: str


def subscription_problems(url: str, policy: AddressPolicy, *, admin: bool) -> list[str]:
    """What makes `url` unacceptable for a new subscription (empty: acceptable).

    * Only admins may use `http://`, and only for internal receivers: a host
      on the allowlist, or one whose every address is in an allowlisted network.
    * Every address the host resolves to now must be public, or (admins only)
      allowlisted. A name that does not resolve is accepted over https (each
      delivery checks again); over http it cannot be shown to be internal.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return ["the URL cannot be parsed"]
    if not host:
        return ["a webhook URL names a host"]
    if parts.scheme != "https" and not admin:
        return ["a webhook URL starts with https:// (http:// is for an admin's internal receivers)"]
    try:
        addresses = policy.resolve(host)
    except Unresolvable:
        if parts.scheme == "http":
            return [f"http:// is for internal receivers on the allowlist; {host} does not resolve"]
        return []
    problems = []
    for address in addresses:
        blocked = policy.refusal(host, address, private_ok=admin)
        if blocked is not None:
            problems.append(
                f"{host} resolves to {blocked.address} ({blocked.reason}): webhooks go to public "
                "addresses only" + (" unless allowlisted ([notify] allow_private)" if admin else "")
            )
    if not problems and parts.scheme == "http":
        internal = all(policy.allowlisted(host, a) for a in addresses)
        if not internal:
            problems.append(
                f"http:// is for internal receivers on the allowlist; use https:// for {host}"
            )
    return problems
