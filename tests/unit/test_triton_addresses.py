import pytest

from orchestrator.triton.addresses import every_address, split_host_port
from orchestrator.triton.errors import TritonAddressError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("triton:8001", ("triton", 8001)),
        ("dns:///triton-grpc.pitchside.svc:8001", ("triton-grpc.pitchside.svc", 8001)),
        ("[::1]:8001", ("::1", 8001)),
        ("127.0.0.1:65535", ("127.0.0.1", 65535)),
    ],
)
def test_host_and_port_are_split_from_every_form_of_address(url: str, expected: tuple[str, int]) -> None:
    assert split_host_port(url) == expected


@pytest.mark.parametrize("url", ["triton", "triton:", ":8001", "triton:80o1", "triton:0", "triton:70000"])
def test_an_address_without_a_usable_port_is_refused(url: str) -> None:
    with pytest.raises(TritonAddressError, match="is not host:port"):
        split_host_port(url)


def test_an_address_resolves_to_itself_once() -> None:
    assert every_address("127.0.0.1:8001") == ("127.0.0.1:8001",)
    assert every_address("dns:///127.0.0.2:9") == ("127.0.0.2:9",)
    assert every_address("[::1]:8001") == ("[::1]:8001",)


def test_a_name_that_does_not_resolve_is_a_clear_error() -> None:
    with pytest.raises(TritonAddressError, match=r"no-such-host\.invalid does not resolve"):
        every_address("no-such-host.invalid:8001")


def test_a_headless_service_name_becomes_each_pod_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pods = ["10.0.3.7", "10.0.1.4", "10.0.3.7", "fd00::12"]  # as a resolver answers: repeats, mixed families

    def resolve(host: str, port: int, type: int = 0) -> list[tuple[object, ...]]:
        assert (host, port) == ("triton-grpc.pitchside.svc", 8001)
        return [(None, type, 6, "", (address, port)) for address in pods]

    monkeypatch.setattr("socket.getaddrinfo", resolve)
    assert every_address("dns:///triton-grpc.pitchside.svc:8001") == (
        "10.0.3.7:8001",
        "10.0.1.4:8001",
        "[fd00::12]:8001",
    )
