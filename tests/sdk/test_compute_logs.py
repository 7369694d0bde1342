"""Compute log capture in the SDK: file-descriptor level, teed to the process's own streams, Dagster's layout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestra._core.compute_logs import (
    ComputeLogManager,
    InvalidLogKey,
    LocalComputeLogManager,
    NoOpComputeLogManager,
    compute_log_manager_from_config,
    create_compute_log_file_key,
)

REPO = Path(__file__).resolve().parents[2]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, timeout=60)


def test_capture_takes_python_raw_fd_and_child_process_output_and_still_echoes_it(tmp_path):
    proc = _python(
        """
        import ctypes, os, subprocess, sys
        from orchestra._core.compute_logs import LocalComputeLogManager

        manager = LocalComputeLogManager("base")
        key = manager.build_log_key_for_run("run-1", "abcdefgh")
        print("before capture", flush=True)
        with manager.capture_logs(key):
            print("from print")
            sys.stderr.write("from sys.stderr\\n")
            os.write(1, b"from fd 1\\n")
            ctypes.CDLL(None).puts(b"from libc puts")
            subprocess.run(["echo", "from a child echo"], check=True)
            subprocess.run("echo 'child on stderr' >&2", shell=True, check=True)
        print("after capture", flush=True)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    logs = tmp_path / "base" / "run-1" / "compute_logs"
    out = (logs / "abcdefgh.out").read_bytes()
    err = (logs / "abcdefgh.err").read_bytes()
    for line in (b"from print\n", b"from fd 1\n", b"from libc puts\n", b"from a child echo\n"):
        assert line in out
    assert err == b"from sys.stderr\nchild on stderr\n"
    assert b"before capture" not in out and b"after capture" not in out
    assert (logs / "abcdefgh.complete").exists()
    # teed: the process's own stdout/stderr still got everything, in order around the capture
    assert proc.stdout.startswith(b"before capture\n") and proc.stdout.endswith(b"after capture\n")
    for line in (b"from print\n", b"from fd 1\n", b"from libc puts\n", b"from a child echo\n"):
        assert line in proc.stdout
    assert b"from sys.stderr\nchild on stderr\n" in proc.stderr


def test_hostile_output_is_stored_verbatim_and_read_back_by_cursor(tmp_path):
    blob = b"\x00\x1b[31mred\x1b[0m \xff\xfe not utf-8 \r\n" + b"x" * 300_000 + b"\n"
    (tmp_path / "blob").write_bytes(blob)
    proc = _python(
        """
        import os
        from orchestra._core.compute_logs import LocalComputeLogManager

        manager = LocalComputeLogManager("base")
        with manager.capture_logs(manager.build_log_key_for_run("r", "k")):
            os.write(1, open("blob", "rb").read())
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    manager = LocalComputeLogManager(str(tmp_path / "base"))
    key = manager.build_log_key_for_run("r", "k")
    assert (tmp_path / "base" / "r" / "compute_logs" / "k.out").read_bytes() == blob
    chunks, cursor = [], None
    while True:
        data = manager.get_log_data(key, cursor=cursor, max_bytes=100_000)
        if not data.stdout:
            break
        chunks.append(data.stdout)
        cursor = data.cursor
    assert b"".join(chunks) == blob and cursor == f"{len(blob)}:0"
    last = manager.read_log_chunk(key, "stdout", len(blob))
    assert last.data == b"" and last.eof


def test_a_capture_in_progress_is_not_at_eof(tmp_path):
    manager = LocalComputeLogManager(str(tmp_path))
    key = manager.build_log_key_for_run("r", "live")
    os.makedirs(tmp_path / "r" / "compute_logs")
    (tmp_path / "r" / "compute_logs" / "live.out").write_bytes(b"so far\n")
    chunk = manager.read_log_chunk(key, "stdout", 0)
    assert chunk.data == b"so far\n" and chunk.cursor == 7 and not chunk.eof
    assert manager.read_log_chunk(manager.build_log_key_for_run("r", "never"), "stderr") is None


@pytest.mark.parametrize("part", ["..", ".", "../etc", "a/b", "/etc/passwd", "a\\b", "nul\x00byte", "", 7])
def test_key_parts_that_are_not_plain_names_are_refused(tmp_path, part):
    manager = LocalComputeLogManager(str(tmp_path))
    with pytest.raises(InvalidLogKey):
        manager.get_captured_local_path(["run", "compute_logs", part], "out")
    with pytest.raises(InvalidLogKey):
        manager.read_log_chunk([part, "compute_logs", "k"], "stdout")


def test_a_symlink_out_of_the_base_dir_is_refused(tmp_path):
    base = tmp_path / "base"
    (base / "r").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "k.out").write_text("secret")
    (base / "r" / "compute_logs").symlink_to(tmp_path / "secret")
    manager = LocalComputeLogManager(str(base))
    with pytest.raises(InvalidLogKey, match="outside"):
        manager.read_log_chunk(["r", "compute_logs", "k"], "stdout")


def test_io_types_and_cursors_are_checked(tmp_path):
    manager = LocalComputeLogManager(str(tmp_path))
    with pytest.raises(InvalidLogKey):
        manager.read_log_chunk(["r", "compute_logs", "k"], "../out")
    with pytest.raises(InvalidLogKey):
        manager.get_log_data(["r", "compute_logs", "k"], cursor="1:2:3")
    assert manager.parse_cursor("10:20") == (10, 20)


def test_file_keys_are_eight_random_letters_whatever_the_seed():
    import random

    random.seed(1)
    first = create_compute_log_file_key()
    random.seed(1)
    second = create_compute_log_file_key()
    assert len(first) == 8 and first.isalpha() and first.islower() and first != second


def test_config_entries_resolve_like_dagsters(tmp_path):
    default = compute_log_manager_from_config(None, str(tmp_path / "storage"))
    assert isinstance(default, LocalComputeLogManager) and default.base_dir == str(tmp_path / "storage")
    entry = {"module": "dagster._core.storage.local_compute_log_manager", "class": "LocalComputeLogManager",
             "config": {"base_dir": str(tmp_path / "logs"), "polling_timeout": 1.0, "upload_interval": 30}}
    local = compute_log_manager_from_config(entry, str(tmp_path / "storage"))
    assert local.base_dir == str(tmp_path / "logs") and local.polling_timeout == 1.0 and local.upload_interval == 30
    noop = compute_log_manager_from_config({"module": "orchestra._core.compute_logs", "class": "NoOpComputeLogManager"}, "x")
    assert isinstance(noop, NoOpComputeLogManager) and isinstance(noop, ComputeLogManager)


def test_execute_in_process_announces_one_capture_for_the_whole_process():
    import orchestra as dg

    @dg.op
    def hello():
        return 1

    @dg.job
    def one():
        hello()

    result = one.execute_in_process()
    [captured] = [e for e in result.all_events if e.event_type_value == "LOGS_CAPTURED"]
    data = captured.logs_captured_data
    assert data.step_keys == ["hello"] and len(data.file_key) == 8
    assert captured.message == f"Started capturing logs in process (pid: {os.getpid()})."


def test_a_run_with_a_local_manager_captures_its_steps_output(tmp_path):
    proc = _python(
        """
        import os
        import orchestra as dg
        from orchestra._core.compute_logs import LocalComputeLogManager
        from orchestra._core.instance import DagsterInstance, InMemoryEventLogStorage, InMemoryRunStorage

        @dg.op
        def talk():
            print("op says hi")
            os.system("echo op child says hi")

        @dg.job
        def job():
            talk()

        instance = DagsterInstance(InMemoryRunStorage(), InMemoryEventLogStorage(), is_ephemeral=False,
                                   compute_log_manager=LocalComputeLogManager("base"))
        result = job.execute_in_process(instance=instance)
        [event] = [e for e in result.all_events if e.event_type_value == "LOGS_CAPTURED"]
        print("FILE_KEY", event.logs_captured_data.file_key, result.run_id)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.decode().splitlines() if ln.startswith("FILE_KEY")][0]
    _, file_key, run_id = line.split()
    out = (tmp_path / "base" / run_id / "compute_logs" / f"{file_key}.out").read_text()
    assert "op says hi\n" in out and "op child says hi\n" in out
    assert "FILE_KEY" not in out


def test_prints_are_captured_even_when_sys_stdout_was_replaced(tmp_path):
    # as in a Celery worker, whose sys.stdout/sys.stderr are logging proxies
    proc = _python(
        """
        import io, sys
        from orchestra._core.compute_logs import LocalComputeLogManager

        proxy_out, proxy_err = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = proxy_out, proxy_err
        manager = LocalComputeLogManager("base")
        with manager.capture_logs(["r", "compute_logs", "k"]):
            print("print while proxied")
            print("error while proxied", file=sys.stderr)
        print("back on the proxy")
        assert sys.stdout is proxy_out and sys.stderr is proxy_err
        sys.__stdout__.write(proxy_out.getvalue())
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    logs = tmp_path / "base" / "r" / "compute_logs"
    assert (logs / "k.out").read_text() == "print while proxied\n"
    assert (logs / "k.err").read_text() == "error while proxied\n"
    assert proc.stdout.endswith(b"back on the proxy\n")
