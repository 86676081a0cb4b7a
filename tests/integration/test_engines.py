"""Docker, Podman and containerd running their containers through casemate
(issue 5). Each engine is started here, once per module, on a private data
root, socket and cgroup parent, with an image imported from the busybox root
filesystem; every check is made from inside the container. Everything the
engines create is removed afterwards, even on failure (see engines.py).

Not tested here, and why: port publishing (`-p 127.0.0.1:8080:80`) needs a
bridge network (a Linux bridge, a veth pair and docker-proxy or iptables/
nftables rules on the host); these tests touch no host network beyond
loopback, so they check what Docker does without one (the mapping is
discarded, the container has loopback only). See docs/engines.md."""
import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

import engines
from conftest import CASEMATE, ROOTFS

IMAGE = "cm-eng-busybox"
CHMOD_PROFILE = ('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":'
                 '[{"name":"chmod","action":"SCMP_ACT_ERRNO"}]}')
# The host policy of the Docker daemon below: refuse what seed 001 calls
# "the docker group is root on the host".
POLICY = '{"refuse": ["privileged", "sensitive-host-mount"]}'

# Inside the container: the directory of the cgroup this process is in, for
# controller $1: the hierarchy's root when the runtime mounts the container's
# own cgroup there (as runc and casemate do), else its path below the root.
CGPATH = ("cg() { p=/sys/fs/cgroup/$1$(grep \":$1:\" /proc/self/cgroup | cut -d: -f3); "
          "[ -d $p ] || p=/sys/fs/cgroup/$1; echo $p; }; ")


def need(binary):
    if not shutil.which(binary):
        pytest.skip(f"{binary} is not installed")


def lines(out):
    return [l.strip() for l in out.splitlines() if l.strip()]


def status_field(out, name):
    m = re.search(rf"^{name}:\s*(\S+)", out, re.M)
    assert m, f"no {name} in:\n{out}"
    return m.group(1)


# --------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cm-eng-files")
    (d / "chmod.json").write_text(CHMOD_PROFILE)
    (d / "policy.json").write_text(POLICY)
    return d


@pytest.fixture(scope="module")
def docker(workdir):
    need("dockerd")
    need("docker")
    # docs/engines.md's daemon.json, casemate the default runtime; the test's
    # policy file in place of /etc/casemate/policy.json (dockerd passes
    # runtimeArgs to the runtime, but not our environment).
    daemon_json = {
        "runtimes": {"casemate": {"path": CASEMATE,
                                  "runtimeArgs": ["--policy", str(workdir / "policy.json")]}},
        "default-runtime": "casemate",
        "exec-opts": ["native.cgroupdriver=cgroupfs"],
    }
    d = None
    try:
        d = engines.Docker(CASEMATE, None, daemon_json=daemon_json)
        d.import_rootfs(ROOTFS, IMAGE)
        yield d
    finally:
        if d:
            errors = d.close()
            assert not errors, errors


@pytest.fixture(scope="module")
def podman():
    need("podman")
    p = engines.Podman(CASEMATE)
    try:
        p.import_rootfs(ROOTFS, IMAGE)
        yield p
    finally:
        errors = p.close()
        assert not errors, errors


@pytest.fixture(scope="module")
def containerd():
    need("containerd")
    need("ctr")
    need("docker")
    c = None
    try:
        c = engines.Containerd(CASEMATE)
        yield c
    finally:
        if c:
            errors = c.close()
            assert not errors, errors


# ------------------------------------------------ seed flags, both engines

def check_caps_none(out):
    for f in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status_field(out, f), 16) == 0, out


def check_cap_add(out):
    # --cap-drop=all --cap-add NET_ADMIN: exactly CAP_NET_ADMIN (12).
    assert int(status_field(out, "CapEff"), 16) == 1 << 12, out
    assert "mtu-set" in out, out


def check_pids(out):
    assert "pids.max=20" in out, out
    m = re.search(r"^event:max=(\d+)", out, re.M)
    assert m and int(m.group(1)) > 0, f"no fork was refused:\n{out}"


def check_memory(out):
    assert f"limit={64 << 20}" in out, out


def check_cpuset(out):
    assert status_field(out, "Cpus_allowed_list") == "0", out


def check_read_only(out):
    assert "root-ro" in out and "tmp-rw" in out, out
    assert re.search(r"^tmpfs /tmp tmpfs ", out, re.M), out


def check_nnp(out):
    assert status_field(out, "NoNewPrivs") == "1", out


def check_seccomp(out):
    assert status_field(out, "Seccomp") == "2", out
    assert "chmod-refused" in out and "chown-ok" in out, out


def check_user(out):
    assert status_field(out, "Uid") == "1000" and status_field(out, "Gid") == "1000", out


def check_net_none(out):
    assert lines(out) == ["lo"], out


SEED_FLAGS = [
    ("cap-drop-all", ["--cap-drop=all"], "cat /proc/self/status", check_caps_none),
    ("cap-add", ["--cap-drop=all", "--cap-add", "NET_ADMIN"],
     "cat /proc/self/status; ip link set lo mtu 1400 && echo mtu-set", check_cap_add),
    ("pids-limit", ["--pids-limit=20"],
     # ash gives up on a failed fork: fork in a subshell, then read the
     # cgroup's "max" event count with builtins only (no fork left).
     CGPATH + "P=$(cg pids); echo pids.max=$(cat $P/pids.max); "
     "(i=0; while [ $i -lt 30 ]; do sleep 1 & i=$((i+1)); done) 2>/dev/null; "
     "while read k v; do echo event:$k=$v; done < $P/pids.events", check_pids),
    ("memory", ["--memory", "64m"],
     CGPATH + "echo limit=$(cat $(cg memory)/memory.limit_in_bytes)", check_memory),
    ("cpuset", ["--cpuset-cpus=0"], "cat /proc/self/status", check_cpuset),
    ("read-only", ["--read-only", "--tmpfs", "/tmp"],
     "touch /x 2>/dev/null || echo root-ro; touch /tmp/y && echo tmp-rw; grep ' /tmp ' /proc/mounts",
     check_read_only),
    ("no-new-privileges", ["--security-opt", "no-new-privileges"], "cat /proc/self/status",
     check_nnp),
    ("seccomp", ["--security-opt", "seccomp={chmod}"],
     "cat /proc/self/status; touch /tmp/f; chmod 600 /tmp/f 2>/dev/null || echo chmod-refused; "
     "chown 1:1 /tmp/f && echo chown-ok", check_seccomp),
    ("user", ["--user", "1000:1000"], "cat /proc/self/status", check_user),
    ("network-none", ["--network", "none"], "ls /sys/class/net", check_net_none),
]
SEED_IDS = [s[0] for s in SEED_FLAGS]


def seed_args(flags, workdir):
    return [f.format(chmod=workdir / "chmod.json") for f in flags]


@pytest.mark.parametrize("name,flags,script,check", SEED_FLAGS, ids=SEED_IDS)
def test_docker_seed_flag(docker, workdir, name, flags, script, check):
    r = docker.run(*seed_args(flags, workdir), IMAGE, "sh", "-c", script)
    check(r.stdout)


@pytest.mark.parametrize("name,flags,script,check", SEED_FLAGS, ids=SEED_IDS)
def test_podman_seed_flag(podman, workdir, name, flags, script, check):
    net = [] if "--network" in flags else ["--network", "none"]
    r = podman.run(*net, *seed_args(flags, workdir), IMAGE, "sh", "-c", script)
    check(r.stdout)


def test_seed_flags_change_something(docker, workdir):
    """The checks above can fail: without the flags the container differs."""
    out = docker.run(IMAGE, "sh", "-c", "cat /proc/self/status; touch /tmp/f; "
                     "chmod 600 /tmp/f && echo chmod-ok; " + CGPATH +
                     "echo limit=$(cat $(cg memory)/memory.limit_in_bytes)").stdout
    assert int(status_field(out, "CapEff"), 16) != 0
    assert status_field(out, "NoNewPrivs") == "0"
    assert status_field(out, "Uid") == "0"
    assert "chmod-ok" in out
    assert f"limit={64 << 20}" not in out
    with pytest.raises(AssertionError):
        check_read_only(docker.run(IMAGE, "sh", "-c", SEED_FLAGS[5][2]).stdout)


# ------------------------------------------------------- it is casemate

def casemate_cgroup(out):
    """casemate puts its container in a casemate-<id>-<pid> cgroup below the
    engine's: the sign, from inside, that casemate and not runc ran it."""
    return re.search(r":pids:.*/casemate-[^/]+-\d+$", out, re.M) is not None


def test_docker_uses_casemate(docker):
    assert casemate_cgroup(docker.run(IMAGE, "cat", "/proc/self/cgroup").stdout)
    # and the check can fail: runc's containers have no such cgroup
    assert not casemate_cgroup(docker.run(IMAGE, "cat", "/proc/self/cgroup",
                                          runtime="runc").stdout)


def test_podman_uses_casemate(podman):
    out = podman.run("--network", "none", IMAGE, "cat", "/proc/self/cgroup").stdout
    assert casemate_cgroup(out), out


# ------------------------------------------------ publishing, no bridge

def test_docker_publish_without_bridge(docker):
    """With --bridge=none Docker has no network to publish from: it discards
    the mapping, the container has loopback only and nothing listens on the
    host's port. (Publishing itself needs a bridge: see the module doc.)"""
    r = docker.run("-p", "127.0.0.1:8080:80", IMAGE, "sh", "-c",
                   "ls /sys/class/net; nc -l -p 80 -e true & sleep 0.5; "
                   "nc 127.0.0.1 80 </dev/null && echo inner-listens")
    assert lines(r.stdout) == ["lo", "inner-listens"], r.stdout


def test_docker_publish_on_a_chosen_interface():
    """Seed 000: `-p 127.0.0.1:HOSTPORT:PORT` publishes one port on one
    interface. Docker needs a bridge for it: the test makes its own (a
    private subnet only this daemon's containers use), with no iptables
    rules (Docker's userland proxy carries the traffic), and removes it."""
    import socket
    bridge = f"cm-br-{os.getpid() % 100000}"
    engines.sh(["ip", "link", "add", bridge, "type", "bridge"])
    d = None
    try:
        engines.sh(["ip", "addr", "add", "10.213.77.1/24", "dev", bridge])
        engines.sh(["ip", "link", "set", bridge, "up"])
        d = engines.Docker(CASEMATE, CASEMATE, name="publish", bridge=bridge)
        d.import_rootfs(ROOTFS, IMAGE)
        cid = d.docker("run", "-d", "--runtime", "casemate", "-p", "127.0.0.1:18099:8080", IMAGE,
                       "sh", "-c", "while true; do echo hello-port | nc -l -p 8080; done").stdout.strip()
        data = b""
        deadline = time.time() + 20
        while b"hello-port" not in data and time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", 18099), timeout=3) as s:
                    data = s.recv(100)
            except OSError:
                time.sleep(0.2)
        assert data == b"hello-port\n", data
        # Bound on the chosen interface only.
        listening = [l.split()[1] for l in open("/proc/net/tcp").readlines()[1:]
                     if l.split()[3] == "0A" and l.split()[1].endswith(":46B3")]
        assert listening == ["0100007F:46B3"], listening
        d.docker("rm", "-f", cid)
    finally:
        errors = d.close() if d else []
        engines.sh(["ip", "link", "del", bridge], check=False)
        assert not errors, errors


# ------------------------------------------- exec, stop, kill, terminal

def test_docker_exec(docker):
    cid = docker.docker("run", "-d", IMAGE, "sleep", "1000").stdout.strip()
    try:
        out = docker.docker("exec", cid, "sh", "-c", "cat /proc/1/cmdline; echo; "
                            "cat /proc/self/cgroup").stdout
        assert out.startswith("sleep\x001000"), repr(out)
        assert casemate_cgroup(out), out
        r = docker.docker("exec", cid, "sh", "-c", "exit 7", check=False)
        assert r.returncode == 7, r
        out = docker.docker("exec", "-u", "1000:1000", cid, "id", "-u").stdout
        assert out.strip() == "1000"
    finally:
        docker.docker("rm", "-f", cid, check=False)


def test_podman_exec(podman):
    cid = podman.podman("--runtime", podman.casemate, "run", "-d", "--network", "none",
                        "--cgroup-parent", podman.cg, IMAGE, "sleep", "1000").stdout.strip()
    try:
        out = podman.podman("exec", cid, "cat", "/proc/1/cmdline").stdout
        assert out.startswith("sleep\x001000"), repr(out)
        r = podman.podman("exec", cid, "sh", "-c", "exit 7", check=False)
        assert r.returncode == 7, r
    finally:
        podman.podman("rm", "-f", "-t", "0", cid, check=False)


TERM_SCRIPT = "trap 'echo got-term; exit 3' TERM; trap 'echo got-hup; exit 5' HUP; " \
              "echo ready; while :; do sleep 0.1; done"


def wait_ready(logs):
    engines.wait_for(lambda: "ready" in logs(), 20, "the container to start")


def test_docker_stop(docker):
    cid = docker.docker("run", "-d", IMAGE, "sh", "-c", TERM_SCRIPT).stdout.strip()
    try:
        wait_ready(lambda: docker.docker("logs", cid).stdout)
        t = time.time()
        docker.docker("stop", "-t", "20", cid)
        assert time.time() - t < 10, "SIGTERM did not reach the container"
        assert docker.docker("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip() == "3"
        assert "got-term" in docker.docker("logs", cid).stdout
    finally:
        docker.docker("rm", "-f", cid, check=False)


def test_docker_kill(docker):
    cid = docker.docker("run", "-d", IMAGE, "sh", "-c", TERM_SCRIPT).stdout.strip()
    try:
        wait_ready(lambda: docker.docker("logs", cid).stdout)
        docker.docker("kill", "-s", "HUP", cid)
        engines.wait_for(lambda: docker.docker("inspect", "-f", "{{.State.Running}}",
                                               cid).stdout.strip() == "false", 20, "exit")
        assert docker.docker("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip() == "5"
    finally:
        docker.docker("rm", "-f", cid, check=False)
    cid = docker.docker("run", "-d", IMAGE, "sleep", "1000").stdout.strip()
    try:
        docker.docker("kill", cid)
        engines.wait_for(lambda: docker.docker("inspect", "-f", "{{.State.Running}}",
                                               cid).stdout.strip() == "false", 20, "exit")
        assert docker.docker("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip() == "137"
    finally:
        docker.docker("rm", "-f", cid, check=False)


def test_podman_stop_kill(podman):
    base = ["--runtime", podman.casemate, "run", "-d", "--network", "none",
            "--cgroup-parent", podman.cg, IMAGE, "sh", "-c", TERM_SCRIPT]
    cid = podman.podman(*base).stdout.strip()
    try:
        wait_ready(lambda: podman.podman("logs", cid).stdout)
        podman.podman("stop", "-t", "20", cid)
        assert podman.podman("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip() == "3"
    finally:
        podman.podman("rm", "-f", "-t", "0", cid, check=False)
    cid = podman.podman(*base).stdout.strip()
    try:
        wait_ready(lambda: podman.podman("logs", cid).stdout)
        podman.podman("kill", "-s", "HUP", cid)
        engines.wait_for(lambda: podman.podman("inspect", "-f", "{{.State.Running}}",
                                               cid).stdout.strip() == "false", 20, "exit")
        assert podman.podman("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip() == "5"
    finally:
        podman.podman("rm", "-f", "-t", "0", cid, check=False)


def run_in_pty(cmd, send=b"", timeout=30, env=None):
    """Run cmd with a terminal as its stdin/stdout/stderr; its output."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                         env=env)
    os.close(slave)
    out = b""
    deadline = time.time() + timeout
    try:
        if send:
            os.write(master, send)
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        p.wait(timeout=max(1, deadline - time.time()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return p.returncode, out.decode(errors="replace")


TTY_SCRIPT = "test -t 0 && test -t 1 && echo stdin-stdout-tty; tty; " \
             "stty size; read line; echo got:$line"


def test_docker_tty(docker):
    """docker run -it: the console socket path of `casemate create`."""
    rc, out = run_in_pty(["docker", "-H", "unix://" + docker.sock, "run", "--rm", "-it",
                          IMAGE, "sh", "-c", TTY_SCRIPT], send=b"hello\r")
    assert rc == 0, out
    assert "stdin-stdout-tty" in out and "/dev/pts/0" in out, out
    assert "got:hello" in out, out


def test_podman_tty(podman):
    rc, out = run_in_pty(["podman", "--root", os.path.join(podman.root, "root"),
                          "--runroot", os.path.join(podman.root, "runroot"),
                          "--tmpdir", os.path.join(podman.root, "tmp"),
                          "--runtime", podman.casemate, "run", "--rm", "-it",
                          "--network", "none", "--cgroup-parent", podman.cg,
                          IMAGE, "sh", "-c", TTY_SCRIPT], send=b"hello\r", env=podman.env)
    assert rc == 0, out
    assert "stdin-stdout-tty" in out and "got:hello" in out, out


# ------------------------------------------------------------ host policy

def test_docker_policy_refuses_privileged_root_mount(docker):
    r = docker.docker("run", "--rm", "--privileged", "-v", "/:/host", IMAGE, "true",
                      check=False)
    assert r.returncode != 0
    msg = [l for l in r.stderr.splitlines() if "refused by host policy" in l]
    assert len(msg) == 1, r.stderr
    assert re.search(r"rule CM-CFG-0(01|17) \((privileged|sensitive-host-mount)\)", msg[0]), msg
    # each rule on its own, by name
    r = docker.docker("run", "--rm", "-v", "/:/host", IMAGE, "true", check=False)
    assert r.returncode != 0 and "CM-CFG-017 (sensitive-host-mount)" in r.stderr, r.stderr
    r = docker.docker("run", "--rm", "--privileged", IMAGE, "true", check=False)
    assert r.returncode != 0 and "CM-CFG-001 (privileged)" in r.stderr, r.stderr
    # and the policy lets ordinary containers through
    assert docker.run(IMAGE, "echo", "fine").stdout.strip() == "fine"


# ------------------------------------------------------ user namespaces

@pytest.fixture
def dockremap():
    """dockerd --userns-remap=default makes the user dockremap and its
    /etc/subuid and /etc/subgid lines: undo exactly that afterwards."""
    existed = subprocess.run(["id", "dockremap"], capture_output=True).returncode == 0
    saved = {}
    for f in ("/etc/subuid", "/etc/subgid"):
        saved[f] = open(f).read() if os.path.exists(f) else None
    yield
    if not existed:
        subprocess.run(["userdel", "dockremap"], capture_output=True)
        subprocess.run(["groupdel", "dockremap"], capture_output=True)
        for f, text in saved.items():
            if text is None:
                if os.path.exists(f) and not [l for l in open(f) if not l.startswith("dockremap:")]:
                    os.unlink(f)
                continue
            with open(f, "w") as fh:
                fh.write(text)


@pytest.mark.allow_leftovers
def test_docker_userns_remap(dockremap):
    need("dockerd")
    d = None
    try:
        d = engines.Docker(CASEMATE, CASEMATE, name="remap", extra=["--userns-remap=default"])
        d.import_rootfs(ROOTFS, IMAGE)
        out = d.run(IMAGE, "sh", "-c", "cat /proc/self/uid_map /proc/self/cgroup; id -u").stdout
        m = lines(out)
        uid_map = m[0].split()
        # container root is the first dockremap subordinate id, not host root
        assert uid_map[0] == "0" and uid_map[1] != "0", out
        sub = [l for l in open("/etc/subuid") if l.startswith("dockremap:")]
        assert sub and sub[0].split(":")[1] == uid_map[1], (out, sub)
        assert m[-1] == "0"
        assert casemate_cgroup(out), out
    finally:
        if d:
            errors = d.close()
            assert not errors, errors


# ------------------------------------------------------------- containerd

def test_containerd_ctr_run(containerd, docker):
    tar = subprocess.Popen(["docker", "-H", "unix://" + docker.sock, "save", IMAGE],
                           stdout=subprocess.PIPE)
    p = subprocess.run(["ctr", "-a", containerd.sock, "-n", "cm-eng", "images", "import", "-"],
                       stdin=tar.stdout, capture_output=True, text=True, timeout=60)
    tar.stdout.close()
    tar.wait()
    assert p.returncode == 0, p.stderr
    ref = f"docker.io/library/{IMAGE}:latest"
    out = containerd.ctr("run", "--rm", "--runc-binary", CASEMATE,
                         "--cgroup", f"{containerd.cg}/t1", ref, "cm-eng-t1",
                         "sh", "-c", "cat /proc/self/cgroup /proc/self/status").stdout
    assert casemate_cgroup(out), out
    assert f"{containerd.cg}/t1/casemate-" in out, out
    # ctr's default spec: the runc defaults, as casemate applied them
    assert status_field(out, "NoNewPrivs") == "1", out
    assert int(status_field(out, "CapEff"), 16) == 0xa80425fb, out


def test_containerd_cri_snippet_parses(containerd):
    """docs/engines.md's config.toml runtime table: containerd loads it."""
    out = engines.sh(["containerd", "--config", containerd.conf, "config", "dump"]).stdout
    assert "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.casemate]" in out, out
    assert f'BinaryName = "{CASEMATE}"' in out, out


def test_podman_tmpcopyup(podman):
    """Podman asks for "tmpcopyup" on every --tmpfs: accepted over an empty
    directory of the image (above), refused by name over one with files,
    where casemate would otherwise hand over an empty directory."""
    r = podman.run("--network", "none", "--tmpfs", "/etc", IMAGE, "true", check=False)
    assert r.returncode != 0
    assert '"tmpcopyup" (a crun/runc extension) is not supported by casemate over /etc' \
        in r.stderr, r.stderr
    out = podman.run("--network", "none", "--mount", "type=tmpfs,destination=/etc,notmpcopyup",
                     IMAGE, "ls", "-A", "/etc").stdout
    # empty but for what podman binds on top (hostname, hosts)
    assert "passwd" not in out.split() and "group" not in out.split(), out
    assert "passwd" in podman.run("--network", "none", IMAGE, "ls", "/etc").stdout.split()


def test_policy_flag_must_be_readable(tmp_path):
    """--policy (what runtimeArgs pass): a file that cannot be read stops
    the container instead of running it without a policy."""
    r = subprocess.run([CASEMATE, "--policy", str(tmp_path / "missing.json"), "run", ROOTFS,
                        "true"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 125 and "cannot read the host policy" in r.stderr, r
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    (tmp_path / "p.json").write_text(POLICY)
    r = subprocess.run([CASEMATE, "--policy", str(tmp_path / "p.json"), "run", "--privileged",
                        ROOTFS, "true"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 125 and "CM-CFG-001 (privileged)" in r.stderr, r
