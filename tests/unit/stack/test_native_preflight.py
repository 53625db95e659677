"""Before anything starts: missing binaries and busy ports are reported by name, and
nothing is left running."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.native import FETCH_HINT, NativeStack, PreflightError, StackSettings
from stack.native.process import ProcessRef, port_in_use, spawn, stop_process, stop_processes
from tests.support.servers import free_port


def free_settings(tmp_path: Path, **kw: object) -> StackSettings:
    ports: set[int] = set()
    while len(ports) < 8:
        ports.add(free_port())
    p = sorted(ports)
    return StackSettings(
        run_dir=tmp_path / "run",
        prometheus_port=p[0],
        alertmanager_port=p[1],
        blackbox_port=p[2],
        backend_1_port=p[3],
        backend_2_port=p[4],
        upstreams_port=p[5],
        loadgen_port=p[6],
        receiver_port=p[7],
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_port_in_use_is_reported_by_component_name(tmp_path: Path, listening: int) -> None:
    settings = free_settings(tmp_path).model_copy(update={"alertmanager_port": listening})
    with pytest.raises(PreflightError, match=rf"alertmanager \(port {listening}\)"):
        NativeStack(settings).start()
    assert not (tmp_path / "run").exists(), "nothing may start (or be rendered) before the checks pass"


def test_two_components_on_one_port_are_named(tmp_path: Path) -> None:
    settings = free_settings(tmp_path)
    settings = settings.model_copy(update={"receiver_port": settings.upstreams_port})
    with pytest.raises(PreflightError, match="receiver and upstreams share port"):
        NativeStack(settings).preflight()


def test_missing_binary_says_how_to_install(tmp_path: Path) -> None:
    binaries = {
        "prometheus": "prometheus",
        "alertmanager": "no-such-alertmanager-binary",
        "blackbox": "prometheus-blackbox-exporter",
    }
    with pytest.raises(PreflightError) as err:
        NativeStack(free_settings(tmp_path), binaries=binaries).preflight()
    assert "no-such-alertmanager-binary not found" in str(err.value)
    assert FETCH_HINT in str(err.value)


def test_a_binary_of_another_version_is_refused_by_path_and_version(tmp_path: Path) -> None:
    old = tmp_path / "prometheus"
    old.write_text("#!/bin/sh\necho 'prometheus, version 2.42.0+ds (branch: debian/sid)'\n")
    old.chmod(0o755)
    binaries = {
        "prometheus": str(old),
        "alertmanager": "prometheus-alertmanager",
        "blackbox": "prometheus-blackbox-exporter",
    }
    with pytest.raises(PreflightError) as err:
        NativeStack(free_settings(tmp_path), binaries=binaries).preflight()
    assert f"{old} is version 2.42.0, the bundle runs 3.5.x" in str(err.value)
    assert "alertmanager" not in str(err.value), "the pinned Alertmanager is fine and not named"


def test_port_in_use_detects_a_listener(listening: int) -> None:
    assert port_in_use(listening)
    assert not port_in_use(free_port())


def _sleeper(tmp_path: Path, name: str, ignore_term: bool = False) -> subprocess.Popen[bytes]:
    code = "import signal, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    # Spelled in two parts so the log's "starting: <argv>" line does not already contain it.
    code += "print('hand' + 'ler set', flush=True)\ntime.sleep(60)\n"
    proc = spawn([sys.executable, "-c", code], {}, tmp_path / f"{name}.log", tmp_path)
    return proc


def test_stop_process_terminates_and_tolerates_the_dead(tmp_path: Path) -> None:
    proc = _sleeper(tmp_path, "a")
    ref = ProcessRef.of(proc.pid)
    assert ref.alive()
    assert stop_process(ref, grace=5) is True
    assert not ref.alive()
    assert stop_process(ref, grace=5) is False
    assert proc.wait(1) is not None


def test_stop_processes_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = _sleeper(tmp_path, "stubborn", ignore_term=True)
    polite = _sleeper(tmp_path, "polite")
    refs = {"stubborn": ProcessRef.of(stubborn.pid), "polite": ProcessRef.of(polite.pid)}
    # Wait until the handler is installed (the child prints once it is).
    log = tmp_path / "stubborn.log"
    for _ in range(200):
        if "handler set" in log.read_text():
            break
        subprocess.run(["sleep", "0.02"], check=True)
    stopped = stop_processes(refs, grace=0.5)
    assert sorted(stopped) == ["polite", "stubborn"]
    assert not any(r.alive() for r in refs.values())
    assert stubborn.wait(1) is not None and polite.wait(1) is not None


def test_a_recycled_pid_is_not_signalled() -> None:
    me = ProcessRef.of(__import__("os").getpid())
    impostor = ProcessRef(me.pid, me.create_time - 1000)
    assert not impostor.alive()
    assert stop_process(impostor, grace=0) is False
