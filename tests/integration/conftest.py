"""Shared fixtures for the integration tests: the real binary, a busybox root
filesystem, hostile copies of it, and a check that every test leaves the
machine as clean as it found it (mounts, cgroups, processes)."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

CASEMATE = os.environ.get("CASEMATE", os.path.abspath("build/casemate"))
ROOTFS = os.environ.get("ROOTFS", os.path.abspath("build/rootfs"))


def run(*args, timeout=60, input=None, check=None, env=None, **kw):
    """Run casemate with args; return CompletedProcess (text)."""
    cmd = [CASEMATE] + [str(a) for a in args]
    p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                       timeout=timeout, env=env, **kw)
    if check is not None:
        assert p.returncode == check, (
            f"{cmd} exited {p.returncode}, expected {check}\n"
            f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def run_in(rootfs, *cmd_and_flags, flags=(), **kw):
    """casemate run FLAGS ROOTFS CMD..."""
    return run("run", *flags, rootfs, *cmd_and_flags, **kw)


def sh(script, flags=(), rootfs=None, **kw):
    """Run a shell script in a default container."""
    return run("run", *flags, rootfs or ROOTFS, "/bin/sh", "-c", script, **kw)


@pytest.fixture
def casemate():
    return CASEMATE


@pytest.fixture(scope="session")
def rootfs():
    assert os.path.exists(os.path.join(ROOTFS, "bin", "busybox")), \
        f"no busybox root filesystem at {ROOTFS}: run 'make rootfs'"
    return ROOTFS


@pytest.fixture
def tmp_rootfs(tmp_path):
    """A private, writable copy of the busybox root filesystem."""
    dst = tmp_path / "rootfs"
    subprocess.run(["cp", "-a", ROOTFS, str(dst)], check=True)
    return dst


def _mounts():
    with open("/proc/self/mountinfo") as f:
        return [l for l in f if "casemate" in l or "/rootfs" in l]


def _casemate_cgroups():
    found = []
    for base in ("/sys/fs/cgroup",):
        for dirpath, dirnames, _ in os.walk(base):
            for d in dirnames:
                if d.startswith("casemate-"):
                    found.append(os.path.join(dirpath, d))
            if dirpath.count("/") > 8:
                dirnames[:] = []
    return found


def _children():
    me = str(os.getpid())
    kids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[1] == me and fields[0] != "Z":
                kids.append(pid)
        except OSError:
            pass
    return kids


@pytest.fixture(autouse=True)
def leaves_nothing_behind(request):
    """Every test must leave no mount, cgroup or process of its own."""
    before_m = set(_mounts())
    before_c = set(_casemate_cgroups())
    yield
    deadline = time.time() + 5
    while True:
        extra_m = set(_mounts()) - before_m
        extra_c = set(_casemate_cgroups()) - before_c
        kids = _children()
        if not (extra_m or extra_c or kids) or time.time() > deadline:
            break
        time.sleep(0.05)
    if "allow_leftovers" in request.keywords:
        return
    assert not extra_m, f"mounts left behind: {extra_m}"
    assert not extra_c, f"cgroups left behind: {extra_c}"
    assert not kids, f"processes left behind: {kids}"


# Directories the engines and runtimes make on the host whatever their
# configuration says (containerd's /run/containerd, dockerd's /run/docker,
# crun's /run/crun, runc's /run/runc): removed at the end of the session
# when they were not there at its start, so the machine ends as it began.
ENGINE_HOST_DIRS = ("/run/containerd", "/run/docker", "/run/crun", "/run/runc")


@pytest.fixture(scope="session", autouse=True)
def host_dirs_left_as_found():
    before = {d for d in ENGINE_HOST_DIRS if os.path.exists(d)}
    yield
    for d in ENGINE_HOST_DIRS:
        if d not in before and os.path.exists(d):
            shutil.rmtree(d, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_leftovers: the test cleans up itself")
