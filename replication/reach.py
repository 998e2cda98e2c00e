"""Connection reach: the network hosts sling may be sent to for the studio.

An editor chooses a connection's host and port, and "Test" or a run sends sling there:
without a limit that is a port scanner inside the studio's network and a way to the
cloud's metadata service (the machine's credentials). `Reach` refuses link-local
addresses (169.254.0.0/16, fe80::/10: the metadata services live there) and AWS's
IPv6 metadata address always, and with `allowed` entries (`STUDIO_CONNECTION_HOSTS`)
anything they do not name: host name patterns (`*.db.internal`) or networks
(`10.0.0.0/8`).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA = (ipaddress.ip_network("fd00:ec2::254/128"),)
# Fields whose value is a host name (or a comma-separated list of them), not a URL.
_HOST_FIELDS = frozenset({"host", "hosts"})
# URL schemes of local files (`sqlite://rel.db` has no host, whatever urlsplit says).
_LOCAL_SCHEMES = frozenset({"file", "sqlite", "duckdb"})


def _resolve(host: str) -> list[Address]:
    """The addresses `host` stands for; none when it does not resolve (sling will fail on it)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Reach:
    allowed: tuple[str, ...] = ()
    setting: str = "STUDIO_CONNECTION_HOSTS"
    resolve: Callable[[str], list[Address]] = field(default=_resolve, compare=False)

    def refusal(self, host: str) -> str | None:
        """Why sling may not be sent to `host`, or None."""
        addresses = self._addresses(host)
        for address in addresses:
            mapped = getattr(address, "ipv4_mapped", None) or address
            if mapped.is_link_local or any(mapped in net for net in METADATA):
                return f"`{host}` is a link-local or metadata address, never open to connections"
        if self.allowed and not self._allowed(host, addresses):
            return f"`{host}` is not among the hosts connections may reach ({self.setting})"
        return None

    def _addresses(self, host: str) -> list[Address]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            return self.resolve(host)

    def _allowed(self, host: str, addresses: list[Address]) -> bool:
        names = [entry for entry in self.allowed if not _network(entry)]
        networks = [net for entry in self.allowed if (net := _network(entry))]
        if any(fnmatch.fnmatch(host.lower(), name.lower()) for name in names):
            return True
        return bool(addresses) and all(any(a in net for net in networks) for a in addresses)


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


def connection_hosts(fields: Mapping[str, Any]) -> Iterator[str]:
    """The host names a connection's fields send sling to: `host`, and the host of any URL."""
    for name, value in fields.items():
        if not isinstance(value, str) or not value:
            continue
        if name.lower() in _HOST_FIELDS:
            yield from (
                h.strip().rsplit(":", 1)[0] if h.count(":") == 1 else h.strip() for h in value.split(",")
            )
        elif "://" in value:
            yield from _url_hosts(value)


def _url_hosts(value: str) -> Iterable[str]:
    for item in value.split(","):
        try:
            parts = urlsplit(item.strip())
            host = parts.hostname
        except ValueError:
            continue
        if host and parts.scheme.lower() not in _LOCAL_SCHEMES:
            yield host
