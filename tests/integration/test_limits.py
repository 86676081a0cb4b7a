"""Resource limits of `casemate run` on the real kernel: the seeds' fork bomb,
a memory hog, CPU sets and quotas, rlimits, oom_score_adj, block I/O weight,
and the container's private view of its cgroup (issue 4)."""
import glob
import os
import shutil
import subprocess
import time

import pytest

from conftest import CASEMATE, ROOTFS, run, sh


def container_cgroup(pid, controller, timeout=10):
    """The host directory of the cgroup of the foreground casemate `pid`
    (casemate-<id>-<pid>) in a v1 controller, once it exists."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = glob.glob(f"/sys/fs/cgroup/{controller}/**/casemate-*-{pid}", recursive=True)
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no {controller} cgroup of casemate pid {pid}")


def read_int(path):
    with open(path) as f:
        v = f.read().strip()
    return -1 if v == "max" else int(v)


def stop(p):
    """Let a foreground casemate finish (it removes its cgroup); kill it
    only if it hangs."""
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate(timeout=15)


@pytest.fixture(scope="module")
def bash_rootfs(tmp_path_factory):
    """The busybox root filesystem plus the host's bash and its libraries:
    busybox ash refuses ':' as a function name, and the seed's bomb is
    written for bash."""
    bash = shutil.which("bash")
    if not bash:
        pytest.skip("no bash on the host to build the seed's fork bomb with")
    dst = tmp_path_factory.mktemp("limits") / "rootfs"
    subprocess.run(["cp", "-a", ROOTFS, str(dst)], check=True)
    ldd = subprocess.run(["ldd", bash], capture_output=True, text=True, check=True).stdout
    (dst / "bin").mkdir(exist_ok=True)
    shutil.copy(bash, dst / "bin" / "bash", follow_symlinks=True)
    for f in [w for line in ldd.splitlines() for w in line.split() if w.startswith("/")]:
        target = dst / f.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target, follow_symlinks=True)
    yield dst
    shutil.rmtree(dst, ignore_errors=True)


# The seed's bomb, in a subshell of a shell that waits for a sleep started
# beforehand (no fork succeeds once the bomb runs; wait and echo are
# builtins) and then exits: the kernel kills every process of a pid
# namespace when its PID 1 exits.
BOMB = "sleep 4 & s=$!; ( :(){ :|:& };: ); wait $s; echo bomb-contained"


def run_bomb(rootfs, flags, expect_max):
    p = subprocess.Popen([CASEMATE, "run", *flags, str(rootfs), "/bin/bash", "-c", BOMB],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cg = container_cgroup(p.pid, "pids")
        assert read_int(f"{cg}/pids.max") == expect_max
        peak = 0
        deadline = time.time() + 3
        while time.time() < deadline:
            try:
                peak = max(peak, read_int(f"{cg}/pids.current"))
            except (FileNotFoundError, ValueError):
                break
            # The host can still start processes while the bomb runs.
            assert subprocess.run(["true"], timeout=10).returncode == 0
            time.sleep(0.05)
        out, err = p.communicate(timeout=60)
    finally:
        stop(p)
    assert peak <= expect_max
    return p.returncode, out, err, peak


def test_seed_fork_bomb_under_pids_limit_20(bash_rootfs):
    rc, out, err, peak = run_bomb(bash_rootfs, ["--pids-limit=20"], 20)
    # The bomb reached the limit and was held there.
    assert peak >= 15, f"the bomb never grew (peak {peak}): is it running?\n{err[-2000:]}"
    assert rc == 0, err[-2000:]
    assert "bomb-contained" in out
    assert "Resource temporarily unavailable" in err


def test_seed_fork_bomb_under_the_default_limits(bash_rootfs):
    rc, out, err, peak = run_bomb(bash_rootfs, [], 1024)
    assert peak > 20, f"the bomb never grew (peak {peak})"
    # Either the bomb's shell finished or the OOM killer of the container's
    # own memory cgroup (default 1 GiB) took it: never the host.
    assert rc in (0, 137), err[-2000:]


def test_busybox_fork_bomb_is_contained(rootfs):
    p = sh("(b(){ b|b& };b) 2>/dev/null & sleep 2; echo done", flags=["--pids-limit=20"], timeout=60)
    assert p.returncode == 0
    assert "done" in p.stdout


def test_memory_hog_is_killed_with_137_and_says_out_of_memory(rootfs):
    # tail keeps the last lines; /dev/zero has no newline, so it holds all.
    p = sh("head -c 200m /dev/zero | exec tail >/dev/null", flags=["--memory=32m"], timeout=60)
    assert p.returncode == 137, p.stderr
    assert "out of memory" in p.stderr
    assert "32 MiB" in p.stderr


def test_memory_hog_fits_without_the_limit(rootfs):
    # The control: the same hog under a larger limit completes.
    p = sh("head -c 8m /dev/zero | tail >/dev/null; echo ok", flags=["--memory=256m"], timeout=60)
    assert p.returncode == 0, p.stderr
    assert "ok" in p.stdout


def test_memory_limit_is_in_the_cgroup(rootfs):
    p = subprocess.Popen([CASEMATE, "run", "--memory=48m", ROOTFS, "sleep", "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cg = container_cgroup(p.pid, "memory")
        assert read_int(f"{cg}/memory.limit_in_bytes") == 48 * 1024 * 1024
    finally:
        stop(p)


def test_seed_cpuset_cpus_0(rootfs):
    p = run("run", "--cpuset-cpus=0", rootfs, "grep", "Cpus_allowed_list", "/proc/self/status", check=0)
    assert p.stdout.split() == ["Cpus_allowed_list:", "0"]


@pytest.mark.skipif(os.cpu_count() < 2, reason="needs two CPUs to tell a cpuset from all")
def test_cpuset_cpus_1(rootfs):
    p = run("run", "--cpuset-cpus=1", rootfs, "grep", "Cpus_allowed_list", "/proc/self/status", check=0)
    assert p.stdout.split() == ["Cpus_allowed_list:", "1"]


BUSY = ('timeout 2 sh -c "while :; do :; done"; cat /proc/$$/stat')


def cpu_seconds_of_busy_loop(flags):
    """CPU time (s) of a 2 s busy loop: cutime+cstime of the shell that
    waited for it."""
    p = sh(BUSY, flags=flags, timeout=60)
    assert p.returncode == 0, p.stderr
    fields = p.stdout.rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def test_cpus_quarter_bounds_cpu_time(rootfs):
    limited = cpu_seconds_of_busy_loop(["--cpus=0.25"])
    free = cpu_seconds_of_busy_loop([])
    # 0.25 CPU for 2 s is 0.5 s; the control shows the loop can use more.
    assert limited <= 0.75, f"--cpus=0.25 used {limited} s of CPU in 2 s"
    assert free > limited * 1.5, f"unlimited {free} s vs limited {limited} s"


def test_ulimit_nofile(rootfs):
    p = sh("ulimit -n; ulimit -Hn; grep 'Max open files' /proc/self/limits",
           flags=["--ulimit", "nofile=1024:2048"], check=0)
    lines = p.stdout.splitlines()
    assert lines[0] == "1024" and lines[1] == "2048"
    assert lines[2].split()[3:5] == ["1024", "2048"]


def host_nofile_hard():
    import resource
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def can_raise_rlimits():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 24))  # CAP_SYS_RESOURCE
    return False


def test_ulimit_above_the_host_hard_limit(rootfs):
    hard = host_nofile_hard()
    want = hard + 10000
    p = run("run", "--ulimit", f"nofile={want}:{want}", rootfs, "sh", "-c", "ulimit -Hn")
    if can_raise_rlimits():
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == str(want)
        return
    assert p.returncode == 125
    assert p.stderr.count("\n") == 1, p.stderr
    assert "CAP_SYS_RESOURCE" in p.stderr and str(hard) in p.stderr and "nofile" in p.stderr


def test_bad_ulimits_are_refused(rootfs):
    for bad in ("nofile", "nosuch=1", "nofile=2048:1024", "nofile=abc"):
        p = run("run", "--ulimit", bad, rootfs, "true")
        assert p.returncode == 125, bad
        assert p.stderr.startswith("casemate: "), p.stderr


def test_oom_score_adj(rootfs):
    p = run("run", "--oom-score-adj=500", rootfs, "cat", "/proc/self/oom_score_adj", check=0)
    assert p.stdout.strip() == "500"


def test_negative_oom_score_adj(rootfs):
    p = run("run", "--oom-score-adj=-500", rootfs, "cat", "/proc/self/oom_score_adj")
    if can_raise_rlimits():
        assert p.returncode == 0 and p.stdout.strip() == "-500", p.stderr
        return
    assert p.returncode == 125
    assert "oom_score_adj" in p.stderr and "CAP_SYS_RESOURCE" in p.stderr


def test_oom_score_adj_out_of_range(rootfs):
    p = run("run", "--oom-score-adj=1001", rootfs, "true")
    assert p.returncode == 125 and "oom-score-adj" in p.stderr


def test_blkio_weight_is_applied_or_explained(rootfs):
    p = subprocess.Popen([CASEMATE, "run", "--blkio-weight=300", ROOTFS, "sleep", "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        try:
            cg = container_cgroup(p.pid, "blkio", timeout=5)
        except AssertionError:
            out, err = p.communicate(timeout=30)
            assert p.returncode == 125, err
            assert "blkio-weight" in err and ("not" in err or "neither" in err), err
            return
        weights = [f for f in ("blkio.weight", "blkio.bfq.weight") if os.path.exists(f"{cg}/{f}")]
        assert weights, f"no weight file in {cg}"
        with open(f"{cg}/{weights[0]}") as f:
            assert "300" in f.read().split()
    finally:
        stop(p)


def test_blkio_weight_out_of_range(rootfs):
    p = run("run", "--blkio-weight=5", rootfs, "true")
    assert p.returncode == 125 and "blkio-weight" in p.stderr


def test_container_sees_only_its_own_cgroup(rootfs):
    p = run("run", rootfs, "cat", "/proc/self/cgroup", check=0)
    lines = p.stdout.strip().splitlines()
    assert lines
    for line in lines:
        assert line.split(":", 2)[2] == "/", line


def test_pids_limit_opt_out_and_bad_values(rootfs):
    p = subprocess.Popen([CASEMATE, "run", "--pids-limit=-1", ROOTFS, "sleep", "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cg = container_cgroup(p.pid, "pids")
        assert read_int(f"{cg}/pids.max") == -1
    finally:
        stop(p)
    for bad in ("abc", "-2", "1.5"):
        q = run("run", f"--pids-limit={bad}", rootfs, "true")
        assert q.returncode == 125 and "pids-limit" in q.stderr
