"""A moto server that can really go down mid-test and come back on the same port with the same data."""

import contextlib
import socket
import threading
from typing import Any

from moto.server import ThreadedMotoServer


class RestartableMotoServer:
    """Runs ``moto.server.ThreadedMotoServer`` on 127.0.0.1 and can stop and restart it on the same port.

    ``stop`` is a real outage: the listening socket is closed (new connections are refused) and every open
    keep-alive connection is cut (a pooled client connection does not keep working through it). moto keeps its
    state in this process's backends, not in the server object, so a server restarted here finds the streams,
    queues, buckets and records the previous one held, the way a recovered AWS endpoint still has your data.
    """

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._port = 0
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        server.start()
        self._port = server.get_host_and_port()[1]
        self._track_connections(server)
        self._server = server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        wsgi = self._wsgi(server)
        if wsgi is not None:
            wsgi.server_close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)

    def _track_connections(self, server: ThreadedMotoServer) -> None:
        # ThreadedMotoServer's shutdown leaves keep-alive handler threads serving: remember each accepted socket.
        wsgi = self._wsgi(server)
        assert wsgi is not None
        accept = wsgi.get_request

        def get_request() -> tuple[socket.socket, Any]:
            connection, address = accept()
            with self._lock:
                self._connections.add(connection)
            return connection, address

        wsgi.get_request = get_request  # type: ignore[method-assign]

    @staticmethod
    def _wsgi(server: ThreadedMotoServer) -> Any:
        return server._server
