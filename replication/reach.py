"""Connection reach: the network hosts sling may be sent to for the studio.

An editor chooses a connection's host and port, and "Test" or a run sends sling there:
without a limit that is a port scanner inside the studio's network and a way to the
cloud's metadata service (the machine's credentials). `Reach` refuses link-local
addresses (169.254.0.0/16, fe80::/10: the metadata services live there) and the other
metadata addresses always, and with `allowed` entries (`STUDIO_CONNECTION_HOSTS`)
anything they do not name: host name patterns (`*.db.internal`) or networks
(`10.0.0.0/8`).

A host is judged as sling will reach it, whatever its spelling:

- `connection_hosts` finds every host a connection's fields send sling to: the fields sling
  reads as an address (`host`, `endpoint`, `http_url`, `tns`, `conn_str`, `cloud_id`, an
  account of a cloud service, any URL-valued one, the hosts and host-valued query parameters
  of a URL, lists of them) and the URL sling makes of the fields (`SLING_URLS`: a user or a port
  can move its host);
- `Reach.refusal` reads a host as written (brackets, a zone, a port, a trailing dot, upper
  case), resolves a name and judges every address it stands for and every IPv4 address an IPv6
  one carries (mapped, compatible, NAT64, 6to4, Teredo). Text that is not a host name or address
  is refused, and so is an IPv4 address written another way than a.b.c.d (`2852039166`,
  `0xa9fea9fe`, `0251.0376.0251.0376`, `169.254.43518`): sling 1.4.11 asks DNS for those as
  names, so what they reach is not what they look like.

What is left open: a name that resolves differently when sling connects (DNS rebinding), and
the hosts a driver finds by itself (`mongodb+srv://` SRV records, an API spec's own URLs). A
client of the studio's own (alert webhooks) connects to the addresses `Reach.reached` judged.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote

from replication.connection_types import ACCOUNT_HOSTS, NOT_HOST_SCHEMES, SLING_URLS

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata services outside 169.254.0.0/16: AWS's IPv6 one, Alibaba Cloud's.
METADATA = (ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.100.100.200/32"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# A host name as DNS and Go's resolver take it (underscores too: container names have them).
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
# What inet_aton (the C library's, getaddrinfo's) reads as an IPv4 address: 1 to 4 parts, each
# decimal, octal (0...) or hexadecimal (0x...).
_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")

# Fields read as an address in any type: by name (`host`, `hosts`, `*_endpoint`, `http_url`,
# `rest_uri`, `failoverpartner`, `http_proxy`...), as Oracle's TNS descriptor, as an Elastic
# Cloud id, as a connection string (`conn_str`, `azure_conn_str`, `jdbc_str`, `catalog_conn_string`).
_ADDRESS_NAME = re.compile(
    r"(?:^|_)(?:hosts?|hostname|hostaddr|servers?|address|addr|endpoint|url|uri|failoverpartner|"
    r"failover_partner|partner|proxy)$"
)
_NOT_ADDRESS = frozenset({"ssh_tunnel_local_addr"})  # clickhouse: where sling listens, not where it goes
_CONNECTION_STRING = re.compile(r"(?:^|_)(?:conn_str|conn_string|connection_string|jdbc_str|dsn)$")
# Keys of a connection string (lower case, spaces and `_` dropped) and URL query parameters whose
# value is a host or a URL.
_HOST_KEYS = frozenset(
    {"host", "hostname", "hostaddr", "server", "address", "addr", "datasource", "networkaddress",
     "failoverpartner", "endpoint", "blobendpoint", "dfsendpoint", "queueendpoint", "tableendpoint",
     "fileendpoint"}
)  # fmt: skip
_URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://[^\s;'\",()]+", re.IGNORECASE)
_TNS_HOST = re.compile(r"\(\s*host\s*=\s*([^()\s]+)\s*\)", re.IGNORECASE)
_JDBC_HOST = re.compile(r"@(?://)?([^/:()\s]+(?::\d+)?)")
_MYSQL_TCP = re.compile(r"\btcp6?\(([^()]*)\)", re.IGNORECASE)
MADE_URL = "the URL sling makes of its fields"


def _resolve(host: str) -> list[Address]:
    """The addresses `host` stands for; none when it does not resolve (sling will fail on it)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class NotAHost(ValueError):
    """Text that is no host; `spelled`: the IPv4 address it writes another way, if it does."""

    def __init__(self, message: str, spelled: Address | None = None) -> None:
        super().__init__(message)
        self.spelled = spelled


def read_host(text: str) -> tuple[str, Address | None]:
    """(the host's name in lower case without a trailing dot, its address when it is one) of a
    host as written: `[fe80::1%eth0]`, `DB.Example.com.`, `10.0.0.1`. `NotAHost` for text that is
    neither a name nor an address, and for an IPv4 address written another way than a.b.c.d (the
    message says which address it spells)."""
    host = text.strip()
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed or host.count(":") > 1:
        try:
            address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
        except ValueError:
            raise NotAHost("is not a host name or address") from None
        return str(address), address
    name = host.lower()
    name = name[:-1] if name.endswith(".") else name
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None and name == host:
        return name, address
    if _NUMERIC.fullmatch(name):
        try:
            spelled = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            raise NotAHost("is not a host name or address") from None
        raise NotAHost(
            f"is the address {spelled} written another way (sling asks DNS for it as a name)", spelled
        )
    if not _NAME.fullmatch(name):
        raise NotAHost("is not a host name or address")
    return name, None


def _carried(address: Address) -> list[Address]:
    """`address` and the IPv4 addresses an IPv6 one carries: mapped (::ffff:a.b.c.d), compatible
    (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::), Teredo."""
    found: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        value = int(address)
        if address.ipv4_mapped:
            found.append(address.ipv4_mapped)
        if (value >> 32 == 0 and value > 0xFFFF) or address in _NAT64:
            found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        if address.sixtofour:
            found.append(address.sixtofour)
        if address.teredo:
            found.extend(address.teredo)
    return found


def _metadata(address: Address) -> bool:
    return any(a.is_link_local or any(a in net for net in METADATA) for a in _carried(address))


@dataclass(frozen=True, slots=True)
class Reach:
    allowed: tuple[str, ...] = ()
    setting: str = "STUDIO_CONNECTION_HOSTS"
    reaching: str = "connections"  # who is sent there, as the refusals say
    resolve: Callable[[str], list[Address]] = field(default=_resolve, compare=False)

    def refusal(self, host: str) -> str | None:
        """Why sling may not be sent to `host` (as written in a field or a URL), or None."""
        metadata = f"is a link-local or metadata address, never open to {self.reaching}"
        try:
            name, address = read_host(host)
        except NotAHost as exc:
            if exc.spelled is not None and _metadata(exc.spelled):
                return f"`{host}` ({exc.spelled}) {metadata}"
            return f"`{host.strip()[:200]}` {exc}"
        addresses = [address] if address is not None else self.resolve(name)
        for found in addresses:
            if _metadata(found):
                shown = f"`{host}`" if address is not None else f"`{host}` ({found})"
                return f"{shown} {metadata}"
        if self.allowed and not self._allowed(name, addresses):
            return f"`{host}` is not among the hosts {self.reaching} may reach ({self.setting})"
        return None

    def reached(self, host: str) -> tuple[list[Address], str | None]:
        """(the addresses of `host`, why they may not be reached or None), the name resolved
        once: a client that connects to these reaches what was judged, whatever the name
        resolves to a moment later (DNS rebinding)."""
        try:
            name, address = read_host(host)
        except NotAHost:
            return [], self.refusal(host)
        found = [address] if address is not None else self.resolve(name)
        return found, replace(self, resolve=lambda _name: found).refusal(host)

    def _allowed(self, name: str, addresses: list[Address]) -> bool:
        names = [entry for entry in self.allowed if not _network(entry)]
        networks = [net for entry in self.allowed if (net := _network(entry))]
        if any(fnmatch.fnmatch(name, pattern.lower().rstrip(".")) for pattern in names):
            return True
        # An IPv4-mapped address goes to its IPv4 address: judged as that.
        reached = [getattr(a, "ipv4_mapped", None) or a for a in addresses]
        return bool(reached) and all(any(a in net for net in networks) for a in reached)


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


# --- the hosts of a connection ------------------------------------------------------------------


def connection_hosts(conn_type: str, fields: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, host as written) for every host a connection's fields send sling to."""
    for name, value in fields.items():
        if not isinstance(value, str) or not value.strip():
            continue
        key = str(name).lower()
        for host in field_hosts(conn_type, key, value):
            yield str(name), host
    made = sling_url(conn_type, fields)
    if made:
        yield from ((MADE_URL, host) for host in url_hosts(made))


def field_hosts(conn_type: str, key: str, value: str) -> Iterable[str]:
    """The hosts sling reads in one field (`key` lower case) of a connection: none when sling
    does not read it as an address."""
    if key in _NOT_ADDRESS:
        return ()
    account = ACCOUNT_HOSTS.get((conn_type, key)) or ACCOUNT_HOSTS.get((None, key))
    if account:
        return authority_hosts(account.format(value.strip()))
    if key == "tns":
        return _tns_hosts(value)
    if key == "cloud_id":
        return [_cloud_host(value)]
    if _CONNECTION_STRING.search(key):
        return _connection_string_hosts(value)
    if "://" in value:
        return url_hosts(value)
    if _ADDRESS_NAME.search(key):
        return authority_hosts(value)
    return ()


def sling_url(conn_type: str, fields: Mapping[str, Any]) -> str | None:
    """The URL sling makes of a connection's fields when it has no `url` (`SLING_URLS`)."""
    template = SLING_URLS.get(conn_type)
    data = {str(k).lower(): v for k, v in fields.items() if v is not None}
    if template is None or data.get("url"):
        return None
    data.setdefault("username", data.get("user", ""))
    data.setdefault("database", data.get("dbname", ""))
    data.setdefault("token", data.get("password", ""))
    if conn_type == "snowflake":
        host = str(data.get("host") or data.get("account") or "")
        data["host"] = host.replace(".snowflakecomputing.com", "")
    data["password"] = quote(str(data.get("password", "")), safe="")
    return re.sub(r"\{([a-z_]+)\}", lambda m: str(data.get(m[1], "")), template)


def url_hosts(value: str) -> Iterator[str]:
    """The hosts of a URL, or of a comma-separated list of them: those of its authority
    (several, comma-separated, for drivers that take a list), and of its query parameters that
    name a host or hold a URL."""
    for url in re.split(r",\s*(?=[a-z][a-z0-9+.-]*://)", value.strip(), flags=re.IGNORECASE):
        scheme, sep, rest = url.partition("://")
        if not sep:
            yield from authority_hosts(url)
            continue
        rest = rest.partition("#")[0]
        rest, _, query = rest.partition("?")
        if scheme.lower() not in NOT_HOST_SCHEMES:
            yield from authority_hosts(rest)
        for key, item in parse_qsl(query, keep_blank_values=False):
            if "://" in item:
                yield from url_hosts(item)
            elif _key(key) in _HOST_KEYS:
                yield from authority_hosts(item)


def authority_hosts(text: str) -> Iterator[str]:
    """The hosts of `[user[:password]@]host[:port][,host[:port]...][/...]`, as Go's URL parser
    cuts it: the authority ends at the first `/`, `?` or `#`, its user part at the last `@`."""
    authority = re.split(r"[/?#]", text.strip(), maxsplit=1)[0].rpartition("@")[2]
    for item in authority.split(","):
        item = item.strip()
        if item.startswith("["):
            item = item.partition("]")[0] + "]"
        elif item.count(":") == 1:
            item = item.partition(":")[0]
        if item:  # none: sling's default (or its error)
            yield item


def _key(name: str) -> str:
    return re.sub(r"[\s_-]", "", name.lower())


def _tns_hosts(value: str) -> list[str]:
    """The hosts of an Oracle TNS descriptor (`(HOST=...)`), or of an `host:port/service`."""
    found = _TNS_HOST.findall(value)
    return found or list(authority_hosts(value.strip().strip("()")))


def _cloud_host(value: str) -> str:
    """The Elasticsearch host of an Elastic Cloud id (`name:base64(host$es-id$kibana-id)`), as
    the client makes it: `<es-id>.<host>`."""
    try:
        decoded = base64.b64decode(value.rpartition(":")[2], validate=True).decode()
        host, es_id = decoded.split("$")[:2]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return value
    return f"{es_id}.{host.partition(':')[0]}"


def _connection_string_hosts(value: str) -> list[str]:
    """The hosts of a connection string in the shapes drivers take: URLs in it, `Server=` (and
    the like) of `key=value;` lists, an Azure storage account, MySQL's `tcp(host:port)`, JDBC's
    `@//host:port`, else `user:password@host/...`."""
    if re.match(r"[a-z][a-z0-9+.-]*://", value.strip(), re.IGNORECASE):
        return list(url_hosts(value))
    hosts = [host for url in _URL_IN_TEXT.findall(value) for host in url_hosts(url)]
    hosts += [host for found in _MYSQL_TCP.findall(value) for host in authority_hosts(found)]
    hosts += _TNS_HOST.findall(value)
    pairs = {}
    for part in re.split(r"[;\s]+", value):
        key, sep, item = part.partition("=")
        if sep and re.fullmatch(r"[a-z][\w .-]*", key.strip(), re.IGNORECASE):
            pairs[_key(key)] = item.strip()
    for key, item in pairs.items():
        if key in _HOST_KEYS and "://" not in item:
            # SQL Server: `tcp:host,1433` or `host\instance`; pgx: `a,b`.
            item = re.sub(r"^(?:tcp|np|lpc|admin):", "", item, flags=re.IGNORECASE).split("\\")[0]
            hosts += [h for h in authority_hosts(item) if not h.isdigit()]
    if pairs.get("accountname"):
        suffix = pairs.get("endpointsuffix") or "core.windows.net"
        hosts.append(f"{pairs['accountname']}.blob.{suffix}")
    if pairs.get("usedevelopmentstorage", "").lower() == "true":
        hosts.append("127.0.0.1")
    if not hosts and not pairs:
        # `user:password@host:port/database` (gosnowflake's, go-ora's), JDBC's `...@//host:port/...`.
        jdbc = _JDBC_HOST.findall(value) if value.lower().startswith("jdbc:") else []
        hosts = [h for found in jdbc for h in authority_hosts(found)] or list(authority_hosts(value))
    return hosts
