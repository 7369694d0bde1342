"""Compute logs: each step process's stdout and stderr, captured to files as Dagster's compute log managers do.

Capture works on the file descriptors (1 and 2), so what C extensions and child processes write is
captured too. The descriptors point at the files themselves while capture is on (appended to, so
nothing is lost if the process dies), and a thread copies what lands in the files back to the
process's original stdout/stderr (Dagster tees the same way, with `tail -F`).

Layout (Dagster's `LocalComputeLogManager`): a log key is `[run_id, "compute_logs", file_key]` and
its files are `<base_dir>/<run_id>/compute_logs/<file_key>.out|.err`, with `<file_key>.complete`
touched when capture ends. The file key is eight random lowercase letters, one per capturing
process: the whole run for the in-process executor, one per step process for the others.

Every part of a log key must be a plain name (no `/`, `\\`, `..`, NUL, nor an absolute path) and
the resolved path must stay under `base_dir`; anything else raises `InvalidLogKey`.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import random
import string
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

MAX_BYTES_CHUNK_READ = 4 * 1024 * 1024  # Dagster's cap on one read of a captured log
MAX_FILENAME_LENGTH = 255
DEFAULT_POLLING_TIMEOUT = 2.5
ECHO_INTERVAL = 0.05  # seconds between two copies of new output to the original stream
ECHO_STOP_TIMEOUT = 5.0  # how long the end of a capture waits for a blocked echo


class ComputeIOType(enum.Enum):
    STDOUT = "stdout"
    STDERR = "stderr"


IO_TYPE_EXTENSION = {ComputeIOType.STDOUT: "out", ComputeIOType.STDERR: "err"}


class InvalidLogKey(ValueError):
    """A log key part (or io type) that is not a plain name under the compute log base directory."""


class CapturedLogContext(NamedTuple):
    """Where the logs of one capture can be seen (external URLs for managers that upload elsewhere)."""

    log_key: Sequence[str]
    external_url: str | None = None
    external_stdout_url: str | None = None
    external_stderr_url: str | None = None
    shell_cmd: Any = None


class CapturedLogData(NamedTuple):
    """A chunk of a capture: the bytes read (None when there is no file yet) and the cursor after them."""

    log_key: Sequence[str]
    stdout: bytes | None = None
    stderr: bytes | None = None
    cursor: str | None = None


class CapturedLogMetadata(NamedTuple):
    stdout_location: str | None = None
    stderr_location: str | None = None
    stdout_download_url: str | None = None
    stderr_download_url: str | None = None


class LogChunk(NamedTuple):
    """Bytes read from one captured stream from `offset`; `eof` once capture is over and all is read."""

    data: bytes
    cursor: int
    eof: bool
    size: int = 0  # the file's size when read


def create_compute_log_file_key() -> str:
    """Eight random lowercase letters, independent of any seed user code gave `random`."""
    rng = random.Random(int.from_bytes(os.urandom(16), "big"))
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


def check_log_key_part(part: Any, what: str = "log key part") -> str:
    """Answer `part` if it is a plain file name; raise InvalidLogKey otherwise."""
    if not isinstance(part, str) or not part:
        raise InvalidLogKey(f"{what} must be a non-empty name, got {part!r}")
    if part in (".", "..") or "/" in part or "\\" in part or "\x00" in part or os.path.isabs(part):
        raise InvalidLogKey(
            f"{what} {part!r} is not a plain name: expected a file name without '/', '\\', NUL, "
            "and not '.' or '..'"
        )
    if len(part.encode("utf-8", "surrogatepass")) > 1024:
        raise InvalidLogKey(f"{what} is longer than 1024 bytes")
    return part


def io_type_from(value: Any) -> ComputeIOType:
    """`stdout`/`stderr` (or `out`/`err`) as a ComputeIOType; InvalidLogKey for anything else."""
    if isinstance(value, ComputeIOType):
        return value
    names = {"stdout": ComputeIOType.STDOUT, "out": ComputeIOType.STDOUT,
             "stderr": ComputeIOType.STDERR, "err": ComputeIOType.STDERR}
    if isinstance(value, str) and value.lower() in names:
        return names[value.lower()]
    raise InvalidLogKey(f"io type {value!r} is not one of 'stdout', 'stderr'")


class ComputeLogManager:
    """Captures a process's stdout/stderr under a log key and reads the captures back.

    Subclasses implement `capture_logs`, `is_capture_complete`, `read_log_chunk`, `get_log_metadata`
    and `delete_logs`; `get_log_data` (Dagster's two-stream read with an `"out:err"` cursor) is built
    on `read_log_chunk`.
    """

    def build_log_key_for_run(self, run_id: str, step_key: str) -> list[str]:
        return [run_id, "compute_logs", step_key]

    @contextlib.contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        yield CapturedLogContext(list(log_key))

    def is_capture_complete(self, log_key: Sequence[str]) -> bool:
        return True

    def read_log_chunk(self, log_key: Sequence[str], io_type: Any, offset: int = 0,
                       max_bytes: int | None = None) -> LogChunk | None:
        """Bytes of one stream from `offset`; None when nothing was captured under that key."""
        return None

    def get_log_metadata(self, log_key: Sequence[str]) -> CapturedLogMetadata:
        return CapturedLogMetadata()

    def delete_logs(self, log_key: Sequence[str] | None = None, prefix: Sequence[str] | None = None) -> None:
        return None

    def get_log_data(self, log_key: Sequence[str], cursor: str | None = None,
                     max_bytes: int | None = None) -> CapturedLogData:
        out_offset, err_offset = self.parse_cursor(cursor)
        out = self.read_log_chunk(log_key, ComputeIOType.STDOUT, out_offset, max_bytes)
        err = self.read_log_chunk(log_key, ComputeIOType.STDERR, err_offset, max_bytes)
        return CapturedLogData(
            log_key=list(log_key),
            stdout=out.data if out is not None else None,
            stderr=err.data if err is not None else None,
            cursor=self.build_cursor(out.cursor if out else out_offset, err.cursor if err else err_offset),
        )

    @staticmethod
    def parse_cursor(cursor: str | None) -> tuple[int, int]:
        """Dagster's `"<stdout offset>:<stderr offset>"`; InvalidLogKey for anything else."""
        if not cursor:
            return 0, 0
        parts = str(cursor).split(":")
        if len(parts) != 2 or not all(p.isdigit() and p.isascii() for p in parts):
            raise InvalidLogKey(f"cursor {cursor!r} is not '<stdout offset>:<stderr offset>'")
        return int(parts[0]), int(parts[1])

    @staticmethod
    def build_cursor(stdout_offset: int, stderr_offset: int) -> str:
        return f"{stdout_offset}:{stderr_offset}"

    def dispose(self) -> None:
        return None


class NoOpComputeLogManager(ComputeLogManager):
    """Captures nothing (Dagster's `NoOpComputeLogManager`): turns compute logs off."""

    def __init__(self, inst_data: Any = None, **config: Any):
        self._inst_data = inst_data


class LocalComputeLogManager(ComputeLogManager):
    """Stores the stdout and stderr of each capture in files under `base_dir` (Dagster's layout).

    Args:
        base_dir: the root of every run's compute logs (`$ORCHESTRA_HOME/storage` by default).
        polling_timeout: accepted for Dagster compatibility (seconds between polls of a live tail).
        upload_interval: accepted for Dagster compatibility; local files need no upload.
    """

    def __init__(self, base_dir: str, polling_timeout: float | None = None, upload_interval: int | None = None,
                 inst_data: Any = None):
        if not base_dir or not isinstance(base_dir, str):
            raise ValueError(f"LocalComputeLogManager needs a base_dir path, got {base_dir!r}")
        self._base_dir = os.path.abspath(os.path.expanduser(base_dir))
        self._polling_timeout = float(polling_timeout) if polling_timeout is not None else DEFAULT_POLLING_TIMEOUT
        self._upload_interval = upload_interval
        self._inst_data = inst_data

    @property
    def base_dir(self) -> str:
        return self._base_dir

    def _real_base_dir(self) -> str:
        real = getattr(self, "_real_base", None)
        if real is None or not os.path.isdir(real):
            real = self._real_base = os.path.realpath(self._base_dir)
        return real

    @property
    def polling_timeout(self) -> float:
        return self._polling_timeout

    @property
    def upload_interval(self) -> int | None:
        return self._upload_interval

    def __getstate__(self) -> dict[str, Any]:  # sent to step processes; the config is all it is
        return {"base_dir": self._base_dir, "polling_timeout": self._polling_timeout,
                "upload_interval": self._upload_interval}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["base_dir"], state["polling_timeout"], state["upload_interval"])  # type: ignore[misc]

    # --- paths ------------------------------------------------------------------------------

    def get_captured_local_path(self, log_key: Sequence[str], extension: str, partial: bool = False) -> str:
        """The file of `log_key` with `extension`; InvalidLogKey when a part is not a plain name."""
        if isinstance(log_key, str) or not log_key:
            raise InvalidLogKey(f"log key must be a non-empty list of names, got {log_key!r}")
        parts = [check_log_key_part(p) for p in log_key]
        *namespace, filebase = parts
        filename = f"{filebase}.{extension}"
        if partial:
            filename = f"{filename}.partial"
        if len(filename.encode("utf-8", "surrogatepass")) > MAX_FILENAME_LENGTH:
            filename = f"{hashlib.md5(filebase.encode('utf-8', 'surrogatepass')).hexdigest()}.{extension}"
        path = os.path.join(self._base_dir, *namespace, filename)
        # Belt and braces: the path (symbolic links resolved) must stay under base_dir.
        real_base = self._real_base_dir()
        real = os.path.realpath(path)
        if os.path.commonpath([real_base, real]) != real_base:
            raise InvalidLogKey(f"log key {list(log_key)!r} resolves outside the compute log directory")
        return path

    def complete_artifact_path(self, log_key: Sequence[str]) -> str:
        return self.get_captured_local_path(log_key, "complete")

    def get_captured_log_download_url(self, log_key: Sequence[str], io_type: Any) -> str:
        io = io_type_from(io_type)
        return "/logs/" + "/".join(check_log_key_part(p) for p in log_key) + "/" + IO_TYPE_EXTENSION[io]

    # --- capture ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        out_path = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDOUT])
        err_path = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDERR])
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        with capture_fds(out_path, err_path):
            yield CapturedLogContext(list(log_key))
        # the marker says the capture is over: a live tail can stop polling
        with open(self.complete_artifact_path(log_key), "ab"):
            pass

    def is_capture_complete(self, log_key: Sequence[str]) -> bool:
        return os.path.exists(self.complete_artifact_path(log_key))

    # --- reading ----------------------------------------------------------------------------

    def read_log_chunk(self, log_key: Sequence[str], io_type: Any, offset: int = 0,
                       max_bytes: int | None = None) -> LogChunk | None:
        path = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[io_type_from(io_type)])
        if offset < 0:
            raise InvalidLogKey(f"cursor {offset} is negative")
        limit = MAX_BYTES_CHUNK_READ if max_bytes is None else max(0, min(int(max_bytes), MAX_BYTES_CHUNK_READ))
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                f.seek(min(offset, size))
                data = f.read(limit)
                cursor = f.tell()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return LogChunk(data, cursor, cursor >= size and self.is_capture_complete(log_key), size)

    def get_log_metadata(self, log_key: Sequence[str]) -> CapturedLogMetadata:
        return CapturedLogMetadata(
            stdout_location=self.get_captured_local_path(log_key, "out"),
            stderr_location=self.get_captured_local_path(log_key, "err"),
            stdout_download_url=self.get_captured_log_download_url(log_key, ComputeIOType.STDOUT),
            stderr_download_url=self.get_captured_log_download_url(log_key, ComputeIOType.STDERR),
        )

    def delete_logs(self, log_key: Sequence[str] | None = None, prefix: Sequence[str] | None = None) -> None:
        import shutil

        if log_key:
            for extension in ("out", "err", "complete"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.get_captured_local_path(log_key, extension))
        elif prefix:
            directory = os.path.dirname(self.get_captured_local_path([*prefix, "x"], "out"))
            shutil.rmtree(directory, ignore_errors=True)
        else:
            raise ValueError("delete_logs needs a log_key or a prefix")


# --- capturing this process's file descriptors ------------------------------------------------------


@contextlib.contextmanager
def capture_fds(out_path: str, err_path: str, echo: bool = True) -> Iterator[None]:
    """Point fds 1 and 2 at `out_path` / `err_path` (appending) and copy what arrives to the old streams."""
    _flush_python_streams()
    redirects = [_FdRedirect(1, out_path), _FdRedirect(2, err_path)]
    restore_streams = _python_streams_on_fds()
    restore = _line_buffering()
    echoer: _Echo | None = None
    try:
        for redirect in redirects:
            redirect.start()
        if echo:
            echoer = _Echo([r for r in redirects if r.saved is not None])
        yield
    finally:
        _flush_python_streams()
        for redirect in redirects:
            redirect.restore()
        if echoer is None or echoer.stop():
            for redirect in redirects:
                redirect.close()
        restore()
        restore_streams()


def _flush_python_streams() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()


def _python_streams_on_fds() -> Any:
    """Point `sys.stdout`/`sys.stderr` at fds 1/2 while capturing when they write elsewhere.

    A Celery worker replaces them with logging proxies and pytest with its own buffers; a step's
    `print` must still land in its compute log.
    """
    swapped: list[tuple[str, Any, Any]] = []
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        try:
            if stream is not None and stream.fileno() == fd:
                continue
        except Exception:
            pass
        replacement = open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        setattr(sys, name, replacement)
        swapped.append((name, stream, replacement))

    def restore() -> None:
        for name, stream, replacement in swapped:
            with contextlib.suppress(Exception):
                replacement.flush()
            if getattr(sys, name) is replacement:
                setattr(sys, name, stream)

    return restore


def _line_buffering() -> Any:
    """Make `sys.stdout` line-buffered while capturing, so a live tail sees `print` output as it happens."""
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    before = getattr(stream, "line_buffering", None)
    if reconfigure is None or before is None or before:
        return lambda: None
    try:
        reconfigure(line_buffering=True)
    except Exception:
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(Exception):
            reconfigure(line_buffering=before)

    return restore


class _FdRedirect:
    """One descriptor pointed at a file (appending); `saved` is a copy of what it pointed at before."""

    def __init__(self, fd: int, path: str):
        self.fd = fd
        self.path = path
        self.saved: int | None = None
        self.reader: Any = None

    def start(self) -> None:
        try:
            self.saved = os.dup(self.fd)
        except OSError:  # the descriptor was closed: capture into the file, echo nowhere
            self.saved = None
        file_fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if self.saved is not None:
                self.reader = open(self.path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
                self.reader.seek(0, os.SEEK_END)
            os.dup2(file_fd, self.fd)
        finally:
            os.close(file_fd)

    def copy(self) -> None:
        """Copy what the file gained since the last copy to the original stream."""
        while True:
            chunk = self.reader.read(65536)
            if not chunk:
                return
            view = memoryview(chunk)
            while view:
                try:
                    written = os.write(self.saved, view)  # type: ignore[arg-type]
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # the original stream is gone; the file still has everything
                    return
                view = view[written:]

    def restore(self) -> None:
        if self.saved is not None:
            os.dup2(self.saved, self.fd)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        if self.saved is not None:
            os.close(self.saved)
            self.saved = None


class _Echo(threading.Thread):
    """One thread that tees every redirected file back to its original stream (what `tail -F` does for Dagster)."""

    def __init__(self, redirects: list[_FdRedirect]):
        super().__init__(name="compute-log-echo", daemon=True)
        self.redirects = redirects
        self._stopped = threading.Event()
        if redirects:
            self.start()

    def run(self) -> None:
        while not self._stopped.wait(ECHO_INTERVAL):
            for redirect in self.redirects:
                redirect.copy()

    def stop(self) -> bool:
        """Copy what is left and stop; False when a blocked original stream held the thread up."""
        if not self.redirects:
            return True
        self._stopped.set()
        self.join(ECHO_STOP_TIMEOUT)
        if self.is_alive():
            # The original stream blocks (a pipe nobody reads): the files have everything, so stop
            # echoing rather than hang the step; the daemon thread keeps its descriptors.
            return False
        for redirect in self.redirects:
            redirect.copy()
        return True


def compute_log_manager_from_config(entry: Any, default_base_dir: str) -> ComputeLogManager:
    """Build the manager of a `compute_logs: {module, class, config}` entry (None: the local default).

    Dagster's module paths (`dagster._core.storage.local_compute_log_manager`, `...noop_compute_log_manager`)
    name the same classes here, so a Dagster instance file works unchanged.
    """
    import importlib

    if entry is None:
        return LocalComputeLogManager(default_base_dir)
    module_name = getattr(entry, "module", None) or entry["module"]
    class_name = getattr(entry, "class_", None) or entry.get("class")
    config = dict(getattr(entry, "config", None) or (entry.get("config") if isinstance(entry, dict) else None) or {})
    if module_name.startswith("dagster.") or module_name == "dagster":
        local = {"LocalComputeLogManager": LocalComputeLogManager, "NoOpComputeLogManager": NoOpComputeLogManager}
        if class_name in local:
            cls: Any = local[class_name]
        else:
            raise ValueError(f"compute_logs: {module_name}.{class_name} has no Orchestra counterpart")
    else:
        cls = getattr(importlib.import_module(module_name), class_name)
    if cls is LocalComputeLogManager:
        config.setdefault("base_dir", default_base_dir)
    return cls(**config)


@contextlib.contextmanager
def captured_logs_event(manager: ComputeLogManager | None, *, run_id: str, job_name: str,
                        step_keys: Sequence[str]) -> Iterator[Any]:
    """Capture this process's output under a fresh file key; yield the LOGS_CAPTURED event to emit.

    What the in-process executor does around a run and each step process (multiprocess, Celery)
    around its step. Yields None when there is no manager. A capture that cannot start is reported
    on stderr and the step runs uncaptured (as Dagster does).
    """
    from orchestra._core.event_data import ComputeLogsCaptureData
    from orchestra._core.events import DagsterEvent

    if manager is None:
        yield None
        return
    file_key = create_compute_log_file_key()
    log_key = manager.build_log_key_for_run(run_id, file_key)
    try:
        capture = manager.capture_logs(log_key)
        context = capture.__enter__()
    except Exception as exc:
        print(f"Compute log capture could not start for run {run_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
        yield None
        return
    pid = os.getpid()
    event = DagsterEvent(
        "LOGS_CAPTURED", job_name, None, None, None, None,
        ComputeLogsCaptureData(file_key, list(step_keys), context.external_url, context.external_stdout_url,
                               context.external_stderr_url, context.shell_cmd),
        f"Started capturing logs in process (pid: {pid}).", pid,
    )
    try:
        yield event
    except BaseException:
        if not capture.__exit__(*sys.exc_info()):
            raise
    else:
        capture.__exit__(None, None, None)
