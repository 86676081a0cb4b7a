"""Containers that outlive one command (issue 4): run -d, list, state, kill,
delete, pause/resume, update, stats, on the real kernel. Each test uses its
own --root and unique names, and deletes what it started even on failure."""
import concurrent.futures
import glob
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import CASEMATE, ROOTFS

_counter = [0]


def unique(prefix="lc"):
    _counter[0] += 1
    return f"{prefix}-{os.getpid()}-{_counter[0]}"


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def cgroups_named(name):
    return glob.glob(f"/sys/fs/cgroup/**/casemate-{name}-*", recursive=True)


class Engine:
    """casemate with a private --root; remembers what it started."""

    def __init__(self, root):
        self.root = str(root)
        self.started = []
        self.pids = []

    def __call__(self, *args, timeout=60, check=None):
        cmd = [CASEMATE, "--root", self.root] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check is not None:
            assert p.returncode == check, (
                f"{cmd} exited {p.returncode}, expected {check}\n"
                f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def run_d(self, name, *cmd, flags=()):
        self.started.append(name)
        p = self("run", "-d", "--name", name, *flags, ROOTFS, *cmd, check=0)
        assert p.stdout.strip() == name
        st = self.full_state(name)
        self.pids += [st["pid"], st["supervisorPid"]]
        return st

    def full_state(self, name):
        with open(os.path.join(self.root, name, "state.json")) as f:
            return json.load(f)

    def state(self, name):
        return json.loads(self("state", name, check=0).stdout)

    def listing(self):
        return {c["id"]: c for c in json.loads(self("list", "--format", "json", check=0).stdout)}

    def log(self, name):
        try:
            with open(os.path.join(self.root, name, "log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def cleanup(self):
        for name in self.started:
            if os.path.isdir(os.path.join(self.root, name)):
                self("delete", "--force", name)
        for pid in self.pids:
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cm(tmp_path):
    e = Engine(tmp_path / "root")
    try:
        yield e
    finally:
        e.cleanup()
    # Nothing of ours may be left: processes, cgroups, state.
    for pid in e.pids:
        wait_for(lambda: not alive(pid), what=f"pid {pid} to be gone")
    for name in e.started:
        assert not cgroups_named(name), cgroups_named(name)
        assert not os.path.exists(os.path.join(e.root, name))


def assert_gone(cm, name, st):
    assert not os.path.exists(os.path.join(cm.root, name))
    wait_for(lambda: not alive(st["pid"]), what="the container's init to be gone")
    wait_for(lambda: not alive(st["supervisorPid"]), what="the supervisor to be gone")
    assert not cgroups_named(name)
    assert name not in cm.listing()


# ------------------------------------------------------------ run -d .. delete

def test_run_detached_list_state_kill_delete(cm):
    name = unique()
    st = cm.run_d(name, "sh", "-c", 'trap "echo got-term; exit 3" TERM; echo started; '
                  "while :; do sleep 0.1; done")
    assert alive(st["pid"]) and alive(st["supervisorPid"])

    listed = cm.listing()[name]
    assert listed["status"] == "running" and listed["pid"] == st["pid"]
    assert listed["rootfs"] == os.path.realpath(ROOTFS)
    assert listed["created"].endswith("Z")
    table = cm("list", check=0).stdout.splitlines()
    assert table[0].split() == ["ID", "PID", "STATUS", "CREATED", "ROOTFS"]
    row = [l for l in table if l.startswith(name + " ")][0].split()
    assert row[1] == str(st["pid"]) and row[2] == "running"
    assert cm("list", "-q", check=0).stdout.split() == [name]

    oci = cm.state(name)
    assert oci["id"] == name and oci["status"] == "running" and oci["pid"] == st["pid"]
    assert oci["ociVersion"]
    wait_for(lambda: "started" in cm.log(name), what="the container's output in its log")

    cm("kill", name, check=0)  # SIGTERM by default
    wait_for(lambda: cm.state(name)["status"] == "stopped", what="the container to stop")
    assert "got-term" in cm.log(name)
    wait_for(lambda: cm.full_state(name).get("exitStatus") == 3, what="exit status 3 in the state")
    assert cm.listing()[name]["exitStatus"] == 3
    wait_for(lambda: not cgroups_named(name), what="the supervisor to remove the cgroup")

    p = cm("kill", name, "KILL")
    assert p.returncode == 125 and f"container {name} is not running" in p.stderr
    cm("delete", name, check=0)
    assert_gone(cm, name, st)


# The container's command is PID 1 of its pid namespace: the kernel drops
# signals it has no handler for, except SIGKILL (and SIGSTOP).
@pytest.mark.parametrize("sig,status", [("KILL", 137), ("SIGKILL", 137), ("9", 137), ("sigkill", 137)])
def test_kill_signal_spellings(cm, sig, status):
    name = unique()
    cm.run_d(name, "sleep", "1000")
    cm("kill", name, sig, check=0)
    wait_for(lambda: cm.full_state(name).get("exitStatus") == status, what=f"exit status {status}")
    cm("delete", name, check=0)


def test_kill_errors(cm):
    name = unique()
    p = cm("kill", name)
    assert p.returncode == 125 and "does not exist" in p.stderr
    cm.run_d(name, "sleep", "1000")
    for bad in ("NOSUCH", "0", "65", "SIGRTMIN+99"):
        p = cm("kill", name, bad)
        assert p.returncode == 125 and "is not a signal" in p.stderr, bad
    assert cm.state(name)["status"] == "running"
    p = cm("kill", "../etc")
    assert p.returncode == 125
    cm("delete", "--force", name, check=0)


def test_state_and_delete_of_unknown_container(cm):
    for cmd in (["state", "nosuch"], ["delete", "nosuch"], ["pause", "nosuch"],
                ["update", "nosuch", "--pids-limit", "5"]):
        p = cm(*cmd)
        assert p.returncode == 125, cmd
        assert p.stderr.count("\n") == 1 and "nosuch does not exist" in p.stderr, p.stderr


def test_delete_refuses_a_running_container_unless_forced(cm):
    name = unique()
    st = cm.run_d(name, "sh", "-c", "sleep 1000 & sleep 1000")
    p = cm("delete", name)
    assert p.returncode == 125 and "is running" in p.stderr and "--force" in p.stderr
    assert alive(st["pid"]) and cgroups_named(name)
    cm("delete", "--force", name, check=0)
    assert_gone(cm, name, st)


def test_killed_supervisor_then_delete_force_removes_everything(cm):
    name = unique()
    st = cm.run_d(name, "sh", "-c", "sleep 1000 & sleep 1000")
    os.kill(st["supervisorPid"], signal.SIGKILL)
    wait_for(lambda: not alive(st["supervisorPid"]), what="the supervisor to die")
    # The container goes with its supervisor; its cgroup stays behind.
    wait_for(lambda: not alive(st["pid"]), what="the container to die with its supervisor")
    assert cgroups_named(name)
    assert cm.state(name)["status"] == "stopped"
    cm("delete", "--force", name, check=0)
    assert_gone(cm, name, st)


def test_delete_several_and_delete_force_of_a_paused_container(cm):
    a, b = unique(), unique()
    sa = cm.run_d(a, "sleep", "1000")
    sb = cm.run_d(b, "sleep", "1000")
    cm("pause", b, check=0)
    cm("delete", "--force", a, b, check=0)
    assert_gone(cm, a, sa)
    assert_gone(cm, b, sb)


# ----------------------------------------------------------- pause, resume

def test_pause_and_resume_stop_and_restart_a_counter(cm):
    name = unique()
    cm.run_d(name, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done")
    wait_for(lambda: cm.log(name).count("\n") > 3, what="the counter to run")
    cm("pause", name, check=0)
    assert cm.state(name)["status"] == "paused"
    assert cm.listing()[name]["status"] == "paused"
    frozen = cm.log(name)
    time.sleep(0.6)
    assert cm.log(name) == frozen, "the counter went on while paused"
    p = cm("pause", name)
    assert p.returncode == 125 and "is paused" in p.stderr
    cm("resume", name, check=0)
    assert cm.state(name)["status"] == "running"
    wait_for(lambda: cm.log(name).count("\n") > frozen.count("\n") + 3, what="the counter to go on")
    p = cm("resume", name)
    assert p.returncode == 125 and "is running" in p.stderr
    cm("delete", "--force", name, check=0)


# ------------------------------------------------------------------ update

def pids_cgroup(st):
    for part in st["cgroup"].split(";")[1:]:
        version, ctrls, path = part.split(":", 2)
        if "pids" in ctrls.split(","):
            return path
    raise AssertionError(f"no pids cgroup in {st['cgroup']}")


def test_update_pids_limit_live(cm):
    name = unique()
    st = cm.run_d(name, "sh", "-c",
                  # A subshell forks: the main shell must not die of a failed fork.
                  'trap "(for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done); echo forked" USR1; '
                  "echo ready; while :; do sleep 0.1; done")
    wait_for(lambda: "ready" in cm.log(name), what="the container to be ready")
    cg = pids_cgroup(st)
    with open(f"{cg}/pids.max") as f:
        assert f.read().strip() == "1024"
    cm("update", name, "--pids-limit", "5", check=0)
    with open(f"{cg}/pids.max") as f:
        assert f.read().strip() == "5"
    cm("kill", name, "USR1", check=0)
    wait_for(lambda: "forked" in cm.log(name), what="the forks")
    assert "can't fork" in cm.log(name) or "Resource temporarily unavailable" in cm.log(name)
    with open(f"{cg}/pids.current") as f:
        assert int(f.read()) <= 5
    assert cm.state(name)["status"] == "running"
    # Options before the id work too, and -1 lifts the limit.
    cm("update", "--pids-limit=-1", name, check=0)
    with open(f"{cg}/pids.max") as f:
        assert f.read().strip() == "max"
    cm("delete", "--force", name, check=0)


def test_update_memory_and_cpus_live(cm):
    name = unique()
    st = cm.run_d(name, "sleep", "1000")
    cm("update", name, "--memory", "64m", "--cpus", "0.5", check=0)
    mem = [p.split(":", 2)[2] for p in st["cgroup"].split(";")[1:] if "memory" in p.split(":")[1].split(",")][0]
    with open(f"{mem}/memory.limit_in_bytes") as f:
        assert int(f.read()) == 64 * 1024 * 1024
    stats = json.loads(cm("stats", "--no-stream", "--format", "json", name, check=0).stdout)
    assert stats["MemUsage"].endswith("/ 64MiB")
    cm("delete", "--force", name, check=0)


def test_update_errors(cm):
    name = unique()
    cm.run_d(name, "sleep", "1000")
    for args, needle in ((["update", name], "no limit given"),
                         (["update", name, "--memory", "lots"], "--memory"),
                         (["update", name, "--pids-limit", "x"], "--pids-limit"),
                         (["update", name, "--blkio-weight", "5"], "--blkio-weight"),
                         (["update", name, "--cpus", "1000"], "--cpus"),
                         (["update", name, "--bogus", "1"], "unknown option")):
        p = cm(*args)
        assert p.returncode == 125, args
        assert needle in p.stderr and p.stderr.count("\n") == 1, (args, p.stderr)
    cm("kill", name, "KILL", check=0)
    wait_for(lambda: cm.state(name)["status"] == "stopped", what="the container to stop")
    p = cm("update", name, "--pids-limit", "5")
    assert p.returncode == 125 and "is not running" in p.stderr
    cm("delete", name, check=0)


# ------------------------------------------------------------------- stats

STATS_KEYS = {"ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"}


def test_stats_fields(cm):
    busy, idle = unique(), unique()
    cm.run_d(busy, "sh", "-c", "while :; do :; done", flags=["--cpus", "0.5", "--memory", "64m"])
    cm.run_d(idle, "sh", "-c", "sleep 1000 & sleep 1000 & wait")
    t = time.time()
    p = cm("stats", "--no-stream", "--format", "json", check=0)
    assert 0.9 < time.time() - t < 10, "CPU % comes from two samples 1 s apart"
    rows = {r["Name"]: r for r in map(json.loads, p.stdout.splitlines())}
    assert set(rows) == {busy, idle}
    for r in rows.values():
        assert STATS_KEYS <= set(r), r
        assert r["CPUPerc"].endswith("%") and r["MemPerc"].endswith("%")
        assert " / " in r["MemUsage"] and " / " in r["NetIO"] and " / " in r["BlockIO"]
    assert rows[idle]["PIDs"] == "3" and rows[idle]["Raw"]["pids"] == 3
    assert rows[busy]["PIDs"] == "1"
    assert rows[busy]["MemUsage"].endswith(" / 64MiB")
    assert rows[idle]["MemUsage"].endswith(" / 1GiB")
    cpu = rows[busy]["Raw"]["cpu_percent"]
    assert 25 <= cpu <= 60, f"a busy loop under --cpus 0.5 shows {cpu}%"
    assert rows[idle]["Raw"]["cpu_percent"] < 10
    # Network none: loopback only, which docker does not count.
    assert rows[idle]["NetIO"] == "0B / 0B"

    table = cm("stats", "--no-stream", idle, check=0).stdout.splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT",
                                "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert len(table) == 2 and idle in table[1]
    cm("delete", "--force", busy, idle, check=0)


def test_stats_streams_until_interrupted(cm):
    name = unique()
    cm.run_d(name, "sleep", "1000")
    p = subprocess.Popen([CASEMATE, "--root", cm.root, "stats", name], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    assert "\033[2J" not in out, "the screen is cleared only on a terminal"
    headers = [l for l in out.splitlines() if l.startswith("CONTAINER ID")]
    assert len(headers) >= 2, out
    cm("delete", "--force", name, check=0)


def test_stats_errors(cm):
    p = cm("stats", "--no-stream", "nosuch")
    assert p.returncode == 125 and "nosuch does not exist" in p.stderr
    p = cm("stats", "--format", "yaml")
    assert p.returncode == 125 and "--format" in p.stderr


# ------------------------------------------------------------- concurrency

def test_twenty_concurrent_detached_containers_and_their_deletion(cm):
    names = [unique("lcc") for _ in range(20)]
    cm.started += names

    def start(n):
        return cm("run", "-d", "--name", n, ROOTFS, "sleep", "1000")

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(start, names))
    for n, p in zip(names, results):
        assert p.returncode == 0, (n, p.stderr)
        assert p.stdout.strip() == n
    states = {n: cm.full_state(n) for n in names}
    for st in states.values():
        cm.pids += [st["pid"], st["supervisorPid"]]
    listed = cm.listing()
    assert sorted(listed) == sorted(names)
    assert all(c["status"] == "running" for c in listed.values())
    assert len({c["pid"] for c in listed.values()}) == 20

    def delete(n):
        return cm("delete", "--force", n)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(delete, names))
    for n, p in zip(names, results):
        assert p.returncode == 0, (n, p.stderr)
    for n in names:
        assert_gone(cm, n, states[n])
    assert cm("list", "-q", check=0).stdout == ""


def test_help_of_each_command(cm):
    for c in ("list", "state", "kill", "delete", "pause", "resume", "update", "stats"):
        p = cm(c, "--help", check=0)
        assert p.stdout.startswith(f"Usage: casemate {c}"), c


def test_kill_all_signals_every_process(cm):
    name = unique()
    cm.run_d(name, "sh", "-c", "sleep 1000 & sleep 1000 & wait; echo waited")
    wait_for(lambda: json.loads(cm("stats", "--no-stream", "--format", "json", name,
                                   check=0).stdout)["PIDs"] == "3", what="three processes")
    # PID 1 (sh) has no TERM handler and ignores it; its two sleeps die.
    cm("kill", "--all", name, "TERM", check=0)
    wait_for(lambda: cm.full_state(name).get("exitStatus") == 0, what="the shell to finish its wait")
    assert "waited" in cm.log(name)
    cm("delete", name, check=0)
