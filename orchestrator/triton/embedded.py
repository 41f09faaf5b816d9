"""Launch a real Triton Inference Server locally: the binary bundled in PyPI's nvidia-pytriton.

No Docker and no GPU needed. The server's Python models run in this interpreter's environment: the
launcher puts this environment's ``bin/`` first on the server's PATH, which is how the Python backend
stub finds its site-packages (PYTHONPATH is not honoured by the stub).
"""

import asyncio
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from orchestrator.triton.child_lifetime import (
    die_with_parent,
    remove_orphaned_shm_regions,
    remove_shm_regions,
    shm_prefix,
)
from orchestrator.triton.errors import EmbeddedTritonError
from orchestrator.triton.tracing import TritonTracing
from orchestrator.vision import decode_limits

DEFAULT_HTTP_PORT: Final = 8000
DEFAULT_GRPC_PORT: Final = 8001
DEFAULT_METRICS_PORT: Final = 8002
DEFAULT_STARTUP_TIMEOUT_S: Final = 180.0
STOP_TIMEOUT_S: Final = 20.0
"""How long a graceful SIGTERM shutdown may take before the process group is killed."""
MAX_IMAGE_PIXELS: Final = decode_limits.MAX_IMAGE_PIXELS
"""OpenCV's decode limit inside the models (its default allows 2**30 pixels, about 3 GB of BGR); the models check
the decode limits from the image's header first, this is the backstop."""
SERVER_MALLOC_ENV: Final = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "1048576"}
"""glibc malloc defaults for the server (the launcher's own environment overrides them), so the memory of a big
request goes back to the system once it is answered: Triton 2.51 receives a whole gRPC message (up to 2 GB)
before any model can refuse it. By default glibc keeps the freed slices of such a message in its arenas (its mmap
threshold grows to 32 MB on its own): three rejected 256 MB requests left 100-220 MB of freed heap in the server.
With every block of 64 KB or more mmapped and free memory trimmed above 1 MB its heap is back at its baseline."""
GRPC_INFER_ALLOCATION_POOL_SIZE: Final = 0
"""Request/response objects the gRPC frontend keeps for reuse (Triton's default 8). A kept request keeps the
buffer of the largest input it ever carried: each rejected 256 MB request left about 300 MB more behind."""
_POLL_S: Final = 0.25


@dataclass(frozen=True)
class ServerPorts:
    http: int = DEFAULT_HTTP_PORT
    grpc: int = DEFAULT_GRPC_PORT
    metrics: int = DEFAULT_METRICS_PORT

    def resolved(self) -> "ServerPorts":
        """Replace every 0 with a free loopback port."""
        return ServerPorts(*(port or _free_port() for port in (self.http, self.grpc, self.metrics)))


@dataclass(frozen=True)
class EmbeddedTritonConfig:
    model_repository: Path | str
    """A local directory, or ``s3://bucket/prefix`` / ``s3://host:port/bucket/prefix`` (the model store; its
    credentials come from the usual AWS variables, which the server inherits)."""
    ports: ServerPorts = field(default_factory=ServerPorts)
    host: str = "127.0.0.1"
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S
    log_path: Path | None = None
    """Server output goes here; None sends it to a temporary file (its tail is shown on failure)."""
    log_verbose: int = 0
    explicit_model_control: bool = False
    """Load every model at start, then load and unload only on request (model rollout). Always on for S3."""
    trace: TritonTracing | None = None
    """Export Triton's spans, joined to the callers' traces (see TritonTracing); None: Triton traces nothing."""
    release_memory: bool = True
    """Run the server with SERVER_MALLOC_ENV, so a big request's memory goes back to the system once answered.
    It costs every request of 64 KB or more fresh pages: the letterbox wire's ceiling with the stand-in detector
    measured ~23 % lower (1,315 -> ~1,000 frames/s on 2 cores); a real detector's requests do not notice it.
    False for throughput measurements of the server alone on trusted input."""


@dataclass(frozen=True)
class ServerEndpoints:
    grpc_url: str
    http_url: str
    metrics_url: str


class EmbeddedTriton:
    """A tritonserver child process. Use as a context manager, sync (``with``) or async (``async with``)."""

    def __init__(self, config: EmbeddedTritonConfig) -> None:
        self._config = replace(config, ports=config.ports.resolved())
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._log_path: Path | None = None
        self._last_log_tail = ""
        self._shm_prefix = shm_prefix()

    @property
    def endpoints(self) -> ServerEndpoints:
        host, ports = self._config.host, self._config.ports
        return ServerEndpoints(
            grpc_url=f"{host}:{ports.grpc}",
            http_url=f"http://{host}:{ports.http}",
            metrics_url=f"http://{host}:{ports.metrics}/metrics",
        )

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> ServerEndpoints:
        """Start the server and block until it and every model in the repository are ready."""
        repository = repository_location(self._config.model_repository)
        install = find_installation()
        check_models_numpy(_server_path())
        self._workdir = Path(tempfile.mkdtemp(prefix="pitchside-triton-"))
        self._log_path = self._config.log_path or self._workdir / "tritonserver.log"
        malloc_env = SERVER_MALLOC_ENV if self._config.release_memory else {}
        backends = _backend_directory(install, self._workdir, malloc_env)
        remove_orphaned_shm_regions()  # left by launchers killed with SIGKILL (theirs died with them)
        command = self._command(install, repository, backends)
        self._process = _spawn(install, command, self._log_path, malloc_env)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.endpoints

    def stop(self) -> None:
        """SIGTERM, wait for a graceful exit, then kill whatever is left of the process group (model stubs) and
        remove the shared memory a killed server leaves behind."""
        process, self._process = self._process, None
        if process is not None:
            _terminate_group(process)
            remove_shm_regions(self._shm_prefix)
        if self._workdir is not None:
            self._last_log_tail = self.log_tail()
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def wait(self, timeout: float | None = None) -> int | None:
        """Block until the server exits (its return code) or ``timeout`` passes (None)."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log (kept after stop() removed a temporary log)."""
        if self._log_path is None or not self._log_path.exists():
            return self._last_log_tail
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    def _command(self, install: "TritonInstallation", repository: str, backends: Path) -> list[str]:
        ports = self._config.ports
        explicit = self._config.explicit_model_control or is_s3(repository)
        control = ["--model-control-mode=explicit", "--load-model=*"] if explicit else []
        return [*self._base_command(install, repository, backends, ports), *control]

    def _base_command(
        self, install: "TritonInstallation", repository: str, backends: Path, ports: ServerPorts
    ) -> list[str]:
        return [
            str(install.server_binary),
            f"--model-repository={repository}",
            f"--backend-directory={backends}",
            f"--http-address={self._config.host}",
            f"--grpc-address={self._config.host}",
            f"--http-port={ports.http}",
            f"--grpc-port={ports.grpc}",
            f"--metrics-port={ports.metrics}",
            "--allow-cpu-metrics=true",
            "--pinned-memory-pool-byte-size=0",
            f"--grpc-infer-allocation-pool-size={GRPC_INFER_ALLOCATION_POOL_SIZE}",
            f"--backend-config=python,shm-region-prefix-name={self._shm_prefix}",
            "--strict-readiness=true",
            "--exit-on-error=true",
            f"--exit-timeout-secs={int(STOP_TIMEOUT_S) - 5}",
            f"--log-verbose={self._config.log_verbose}",
            *(self._config.trace.args() if self._config.trace is not None else []),
        ]

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._config.startup_timeout_s
        url = f"{self.endpoints.http_url}/v2/health/ready"
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise EmbeddedTritonError(f"tritonserver exited with code {code} while starting:\n{self.log_tail()}")
            if _http_ok(url):
                return
            time.sleep(_POLL_S)
        raise EmbeddedTritonError(
            f"tritonserver was not ready after {self._config.startup_timeout_s:.0f} s:\n{self.log_tail()}"
        )


def is_s3(repository: Path | str) -> bool:
    return str(repository).startswith("s3://")


def repository_location(repository: Path | str) -> str:
    """What ``--model-repository`` gets: an S3 URL as it is, a local directory as an absolute path."""
    if is_s3(repository):
        return str(repository)
    path = Path(repository).resolve()
    if not path.is_dir():
        raise EmbeddedTritonError(f"model repository {path} does not exist")
    return str(path)


@dataclass(frozen=True)
class TritonInstallation:
    """The files of the tritonserver bundled in the nvidia-pytriton wheel."""

    server_binary: Path
    libraries: Path
    python_backend: Path
    python_stub: Path


def find_installation() -> TritonInstallation:
    """Locate the bundled tritonserver and the Python backend stub for the running Python."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedTritonError(
            "the embedded Triton server needs the nvidia-pytriton package: pip install 'pitchside[embedded]'"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    install = TritonInstallation(
        server_binary=root / "bin" / "tritonserver",
        libraries=root.parent.parent / "nvidia_pytriton.libs",
        python_backend=root / "backends" / "python",
        python_stub=root / "python_backend_stubs" / version / "triton_python_backend_stub",
    )
    missing = [str(p) for p in (install.server_binary, install.python_backend, install.python_stub) if not p.exists()]
    if missing:
        raise EmbeddedTritonError(f"incomplete nvidia-pytriton installation (Python {version}), missing: {missing}")
    return install


def check_models_numpy(path: str) -> None:
    """Refuse to start when the models' Python environment has numpy 2.

    Triton 2.51's Python backend then returns empty output tensors and wrong input values without
    any error, so a server that starts would serve silently wrong detections.
    """
    python = shutil.which("python3", path=path)
    if python is None:
        raise EmbeddedTritonError("no python3 on PATH for the Triton Python backend stub")
    probe = subprocess.run(
        [python, "-c", "import numpy; print(numpy.__version__)"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        raise EmbeddedTritonError(f"the models' Python ({python}) cannot import numpy:\n{probe.stderr.strip()}")
    version = probe.stdout.strip()
    if int(version.split(".")[0]) >= 2:
        raise EmbeddedTritonError(
            f"the models' Python ({python}) has numpy {version}; Triton 2.51's Python backend needs numpy<2 "
            "(with numpy 2 it returns empty tensors without an error). Install numpy<2 in that environment."
        )


def _server_path() -> str:
    """PATH for the server: this interpreter's bin/ first, so the backend stub uses this environment."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _backend_directory(install: TritonInstallation, workdir: Path, malloc_env: Mapping[str, str]) -> Path:
    """``<workdir>/backends/python/`` with the backend library, its utils and the stub side by side."""
    python_dir = workdir / "backends" / "python"
    python_dir.mkdir(parents=True)
    for source in install.python_backend.iterdir():
        if source.is_file():
            (python_dir / source.name).symlink_to(source)
    stub = python_dir / install.python_stub.name
    if malloc_env:
        _write_stub_launcher(stub, install.python_stub, malloc_env)
    else:
        stub.symlink_to(install.python_stub)
    return python_dir.parent


def _write_stub_launcher(path: Path, stub: Path, malloc_env: Mapping[str, str]) -> None:
    """The stub as the backend runs it (``exec <backend dir>/triton_python_backend_stub ...``), without the
    server's malloc settings: a model's Python keeps glibc's adaptive defaults, which reuse its per-frame buffers
    instead of mapping fresh pages for each (with the server's settings the stand-in's compute took 3.6 ms, not
    1.4)."""
    unset = " ".join(f"-u {name}" for name in malloc_env)
    path.write_text(f'#!/bin/sh\nexec env {unset} "{stub}" "$@"\n')
    path.chmod(0o755)


def _spawn(
    install: TritonInstallation, command: list[str], log_path: Path, malloc_env: Mapping[str, str]
) -> "subprocess.Popen[bytes]":
    env = {
        **malloc_env,
        **os.environ,
        "PATH": _server_path(),
        "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [str(install.libraries), os.environ.get("LD_LIBRARY_PATH")])),
        "OPENCV_IO_MAX_IMAGE_PIXELS": str(MAX_IMAGE_PIXELS),
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # Own session: stop() kills the whole group (model stubs too). The kernel kills the server if this
        # launcher dies without stopping it (SIGKILL), so it never serves on unowned.
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=die_with_parent(),  # only prctl() runs in the child: resolved before the fork
        )


def _terminate_group(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stubs the server did not reap
    process.wait()


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
