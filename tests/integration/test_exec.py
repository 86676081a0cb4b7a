"""casemate exec: a process in a running container gets the container's
namespaces, cgroup and confinement (caps, no_new_privs, seccomp), never
more."""
import os
import re
import subprocess
import uuid

import pytest

from conftest import CASEMATE, run


@pytest.fixture
def container(tmp_path, rootfs):
    """A detached container with some caps granted, and its --root."""
    root = tmp_path / "state"
    name = f"exec-{uuid.uuid4().hex[:8]}"
    started = []

    def start(*flags):
        run("--root", root, "run", "-d", "--name", name, *flags, rootfs, "/bin/sh", "-c",
            "trap 'exit 0' TERM; while :; do sleep 0.1; done", check=0)
        started.append(name)
        return root, name
    yield start
    for n in started:
        run("--root", root, "delete", "--force", n)


def field(text, name):
    return re.search(rf"^{name}:\s*(\S+)", text, re.M).group(1)


def status_of(root, name, cmd):
    return run("--root", root, "exec", name, "/bin/sh", "-c", cmd, check=0).stdout


def test_exec_gets_exactly_the_containers_confinement(container):
    root, name = container("--cap-add", "NET_BIND_SERVICE", "--cap-add", "CHOWN")
    init = status_of(root, name, "cat /proc/1/status")
    mine = status_of(root, name, "cat /proc/self/status")
    for f in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb", "NoNewPrivs", "Seccomp"):
        assert field(mine, f) == field(init, f), f
    assert int(field(mine, "CapEff"), 16) == (1 << 10) | (1 << 0)
    assert field(mine, "NoNewPrivs") == "1"
    assert field(mine, "Seccomp") == "2"


def test_exec_joins_every_namespace_and_the_cgroup(container):
    root, name = container()
    out = status_of(root, name,
                    "for n in user mnt net pid ipc uts cgroup; do "
                    "[ $(readlink /proc/self/ns/$n) = $(readlink /proc/1/ns/$n) ] && echo same-$n; done; "
                    "cat /proc/self/cgroup | head -3; cat /proc/1/cgroup | head -3; hostname")
    for n in ("user", "mnt", "net", "pid", "ipc", "uts", "cgroup"):
        assert f"same-{n}" in out, out
    assert out.split()[-1] == name[:12]


def test_exec_cannot_gain_what_the_container_lacks(container):
    root, name = container()
    # The container has no capabilities: neither has exec, and the
    # seccomp filter still refuses user namespaces.
    p = run("--root", root, "exec", name, "/bin/sh", "-c",
            "grep CapEff /proc/self/status; unshare -U true; echo unshare=$?", check=0)
    assert int(p.stdout.split()[1], 16) == 0
    assert "unshare=1" in p.stdout


def test_exec_user_env_workdir_and_exit_status(container):
    root, name = container()
    p = run("--root", root, "exec", "-u", "app", "-e", "X=1", "-w", "/tmp", name, "/bin/sh", "-c",
            "id -u; echo $X; pwd; exit 7")
    assert p.returncode == 7
    assert p.stdout.split() == ["1000", "1", "/tmp"]
    run("--root", root, "exec", name, "/no/such/thing", check=127)


def test_exec_into_a_stopped_or_unknown_container_fails(container, tmp_path):
    root, name = container()
    run("--root", root, "kill", name, "KILL", check=0)
    import time
    for _ in range(100):
        if "stopped" in run("--root", root, "state", name).stdout:
            break
        time.sleep(0.05)
    p = run("--root", root, "exec", name, "true", check=125)
    assert "not running" in p.stderr
    p = run("--root", root, "exec", "nosuchcontainer", "true", check=125)
    assert "nosuchcontainer" in p.stderr


def test_exec_tty(container):
    import pty
    root, name = container()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CASEMATE, [CASEMATE, "--root", str(root), "exec", "-t", name, "/bin/sh", "-c",
                            "tty; exit 3"])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    assert b"/dev/pts/" in out
