"""Every server behind a name: a Kubernetes headless Service's name resolves to the address of each ready pod.

Calls that must reach *every* server (a model rollout) resolve the name here and address each server by its IP;
calls that only need *a* server (frames) keep the name and let gRPC balance across what it resolves to.
"""

import socket
from typing import Final

from orchestrator.triton.errors import TritonAddressError

DNS_SCHEME: Final = "dns:///"
"""gRPC's explicit DNS target prefix (``dns:///triton-grpc.ns.svc:8001``), accepted and dropped here."""


def split_host_port(url: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``dns:///host:port`` -> (host, port); TritonAddressError otherwise."""
    target = url.removeprefix(DNS_SCHEME)
    host, colon, port = target.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TritonAddressError(f"{url!r} is not host:port")
    return host, int(port)


def every_address(url: str) -> tuple[str, ...]:
    """``host:port`` -> ``address:port`` for each distinct address ``host`` resolves to, in the resolver's order
    (IPv6 in brackets). TritonAddressError when the name does not resolve."""
    host, port = split_host_port(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TritonAddressError(f"{url}: {host} does not resolve ({exc.strerror})") from exc
    addresses = dict.fromkeys(str(info[4][0]) for info in found)
    return tuple(f"[{address}]:{port}" if ":" in address else f"{address}:{port}" for address in addresses)
