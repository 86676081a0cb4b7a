"""casemate run: the hardened defaults, the Docker-style flags, exit codes and
signals, on the real kernel."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import CASEMATE, ROOTFS, run, sh


def status_field(text, name):
    m = re.search(rf"^{name}:\s*(\S+)", text, re.M)
    assert m, f"{name} not in:\n{text}"
    return m.group(1)


# ---------------------------------------------------------------- defaults

def test_default_container_has_no_capabilities_and_no_new_privs(rootfs):
    p = sh("cat /proc/self/status", check=0)
    for f in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status_field(p.stdout, f), 16) == 0, f
    assert status_field(p.stdout, "NoNewPrivs") == "1"
    assert status_field(p.stdout, "Seccomp") == "2"


def test_seed_cap_drop_all_grep_cap(rootfs):
    # Seed 000: docker run -ti --cap-drop=all debian grep Cap /proc/self/status
    p = run("run", "--cap-drop=all", rootfs, "grep", "Cap", "/proc/self/status", check=0)
    assert p.stdout.count("0000000000000000") == 5


def test_root_is_an_unprivileged_host_range(rootfs):
    p = sh("cat /proc/self/uid_map /proc/self/gid_map", check=0)
    rows = [l.split() for l in p.stdout.strip().splitlines()]
    assert len(rows) == 2
    for inside, host, size in rows:
        assert inside == "0"
        assert int(host) >= 65536, "container root must not be a low host id"
        assert int(size) == 65536


def test_two_containers_get_different_host_ranges(rootfs):
    a = subprocess.Popen([CASEMATE, "run", rootfs, "/bin/sh", "-c",
                          "cat /proc/self/uid_map; sleep 1"], stdout=subprocess.PIPE, text=True)
    b = sh("cat /proc/self/uid_map", check=0)
    out_a, _ = a.communicate(timeout=30)
    assert a.returncode == 0
    assert out_a.split()[1] != b.stdout.split()[1]


def test_root_filesystem_is_read_only_and_tmp_is_writable_noexec(rootfs):
    p = sh("touch /newfile; echo rc=$?; echo data > /tmp/f && cat /tmp/f; "
           "cp /bin/busybox /tmp/bb && /tmp/bb true; echo exec=$?", check=0)
    assert "rc=1" in p.stdout
    assert "Read-only file system" in p.stderr
    assert "data" in p.stdout
    assert "exec=126" in p.stdout  # /tmp is noexec


def test_read_only_false_gives_a_throwaway_writable_root(tmp_rootfs):
    p = run("run", "--read-only=false", tmp_rootfs, "/bin/sh", "-c",
            "echo hello > /written && cat /written", check=0)
    assert "hello" in p.stdout
    # The write layer is discarded: the host's root filesystem is unchanged.
    assert not (tmp_rootfs / "written").exists()


def test_proc_masked_and_read_only_paths(rootfs):
    # The host has content in each of these; the container sees none.
    assert os.path.getsize("/proc/timer_list") or open("/proc/timer_list").read()
    assert os.listdir("/sys/firmware")
    p = sh("wc -c < /proc/timer_list; wc -c < /proc/interrupts; ls /sys/firmware | wc -l; "
           "echo 1 > /proc/sys/kernel/hostname; "
           "echo sys=$?; echo c > /proc/sysrq-trigger; echo sysrq=$?; touch /sys/x; echo sysfs=$?", check=0)
    lines = p.stdout.split()
    assert lines[0] == "0"          # /proc/timer_list masked by /dev/null
    assert lines[1] == "0"          # /proc/interrupts too
    assert lines[2] == "0"          # /sys/firmware masked by an empty tmpfs
    assert "sys=1" in p.stdout
    assert "sysrq=1" in p.stdout
    assert "sysfs=1" in p.stdout


def test_minimal_dev(rootfs):
    p = sh("ls /dev", check=0)
    names = set(p.stdout.split())
    assert names == {"fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm",
                     "stderr", "stdin", "stdout", "tty", "urandom", "zero"}


def test_network_none_has_only_loopback(rootfs):
    p = sh("cat /proc/net/dev", check=0)
    ifaces = [l.split(":")[0].strip() for l in p.stdout.splitlines()[2:]]
    assert ifaces == ["lo"]


def test_hostname_and_etc_files(rootfs):
    p = run("run", "--hostname", "web1", rootfs, "/bin/sh", "-c",
            "hostname; cat /etc/hostname; grep web1 /etc/hosts", check=0)
    assert p.stdout.split()[:2] == ["web1", "web1"]


def test_pid_namespace_command_is_pid_1(rootfs):
    p = sh("echo $$; ps -o pid,comm | wc -l", check=0)
    assert p.stdout.split()[0] == "1"


def test_namespaces_differ_from_host(rootfs):
    p = sh("for n in user mnt net pid ipc uts cgroup; do readlink /proc/self/ns/$n; done", check=0)
    inside = p.stdout.split()
    host = [os.readlink(f"/proc/self/ns/{n}") for n in
            ("user", "mnt", "net", "pid", "ipc", "uts", "cgroup")]
    for i, h in zip(inside, host):
        assert i != h


# ---------------------------------------------------------- capabilities

@pytest.mark.parametrize("name", ["NET_BIND_SERVICE", "net_bind_service", "CAP_NET_BIND_SERVICE",
                                  "cap_Net_Bind_Service"])
def test_cap_add_spellings(rootfs, name):
    p = run("run", "--cap-add", name, rootfs, "grep", "CapEff", "/proc/self/status", check=0)
    assert int(p.stdout.split()[1], 16) == 1 << 10


def test_cap_add_all_then_drop(rootfs):
    p = run("run", "--cap-add=ALL", "--cap-drop=SYS_ADMIN", rootfs, "grep", "CapBnd",
            "/proc/self/status", check=0)
    mask = int(p.stdout.split()[1], 16)
    assert mask & (1 << 21) == 0 and mask & (1 << 0)


def test_non_root_user_gets_granted_caps_as_ambient(rootfs):
    p = run("run", "-u", "1000", "--cap-add", "NET_BIND_SERVICE", rootfs, "grep", "Cap",
            "/proc/self/status", check=0)
    assert int(status_field(p.stdout, "CapAmb"), 16) == 1 << 10
    assert int(status_field(p.stdout, "CapEff"), 16) == 1 << 10


def test_unknown_capability_is_refused(rootfs):
    p = run("run", "--cap-add", "SYS_MAGIC", rootfs, "true", check=125)
    assert "SYS_MAGIC" in p.stderr


def test_privileged_warns_and_keeps_user_namespace(rootfs):
    p = run("run", "--privileged", rootfs, "/bin/sh", "-c",
            "grep -E 'CapEff|Seccomp:' /proc/self/status; cat /proc/self/uid_map", check=0)
    assert "warning" in p.stderr and "privileged" in p.stderr
    assert int(status_field(p.stdout, "CapEff"), 16) != 0
    assert status_field(p.stdout, "Seccomp") == "0"
    assert p.stdout.split()[-3] == "0" and int(p.stdout.split()[-2]) >= 65536


# ------------------------------------------------------------------ users

def test_user_by_number_and_name(rootfs):
    assert run("run", "-u", "1000:1000", rootfs, "id", "-u", check=0).stdout.strip() == "1000"
    p = run("run", "-u", "app", rootfs, "/bin/sh", "-c", "id; echo $HOME", check=0)
    assert "uid=1000(app)" in p.stdout and "gid=1000(app)" in p.stdout
    assert "50(staff)" in p.stdout  # supplementary group from /etc/group
    assert "/home/app" in p.stdout


def test_unknown_user_is_refused(rootfs):
    p = run("run", "-u", "mallory", rootfs, "true", check=125)
    assert "mallory" in p.stderr


def test_env_and_workdir(rootfs):
    p = run("run", "-e", "FOO=bar", "-w", "/tmp", rootfs, "/bin/sh", "-c", "echo $FOO; pwd", check=0)
    assert p.stdout.split() == ["bar", "/tmp"]
    p = run("run", "-w", "/nonexistent", rootfs, "true", check=125)
    assert "/nonexistent" in p.stderr


# ------------------------------------------------------------- exit codes

def test_exit_status_is_the_commands(rootfs):
    sh("exit 3", check=3)


def test_exit_status_on_signal(rootfs):
    # PID 1 cannot be killed by itself from inside; a child can.
    sh("sh -c 'kill -9 $$'; exit $?", check=137)


def test_not_found_and_not_executable(rootfs):
    p = run("run", rootfs, "/no/such/program", check=127)
    assert "not found" in p.stderr or "No such file" in p.stderr
    run("run", rootfs, "/etc/passwd", check=126)


@pytest.mark.parametrize("args,needle", [
    (["--no-such-flag"], "no-such-flag"),
    (["--pids-limit", "lots"], "pids-limit"),
    (["--security-opt", "bogus=1"], "bogus"),
])
def test_bad_flags_exit_125(rootfs, args, needle):
    p = run("run", *args, rootfs, "true", check=125)
    assert needle in p.stderr
    assert p.stderr.count("\n") == 1, "one line"


def test_bad_root_filesystems(tmp_path):
    run("run", tmp_path / "missing", "true", check=125)
    f = tmp_path / "file"
    f.write_text("x")
    p = run("run", f, "true", check=125)
    assert "not a directory" in p.stderr
    link = tmp_path / "link"
    link.symlink_to(ROOTFS)
    p = run("run", link, "true", check=125)
    assert "symlink" in p.stderr


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                                 signal.SIGUSR1, signal.SIGUSR2])
def test_signals_reach_the_container(rootfs, sig):
    name = signal.Signals(sig).name[3:]
    p = subprocess.Popen([CASEMATE, "run", rootfs, "/bin/sh", "-c",
                          f"trap 'echo got; exit 42' {name}; echo ready; "
                          "while :; do sleep 0.05; done"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(sig)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 42, err
    assert "got" in out


def test_init_forwards_signals_and_reaps(rootfs):
    p = subprocess.Popen([CASEMATE, "run", "--init", rootfs, "/bin/sh", "-c",
                          "sleep 100 & echo ready; wait"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=20)
    assert p.returncode == 128 + signal.SIGTERM


def test_container_killed_with_sigkill_leaves_nothing(rootfs):
    p = subprocess.Popen([CASEMATE, "run", rootfs, "/bin/sh", "-c", "echo $$; sleep 100"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.readline()
    # Find the container's init on the host: casemate's child.
    deadline = time.time() + 10
    child = None
    while time.time() < deadline and child is None:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if f.read().rsplit(")", 1)[1].split()[1] == str(p.pid):
                            child = int(pid)
                except OSError:
                    pass
    assert child
    os.kill(child, signal.SIGKILL)
    p.communicate(timeout=20)
    assert p.returncode == 137


def test_casemate_killed_with_sigkill_takes_its_container_and_the_next_run_cleans_up(rootfs):
    """A SIGKILLed casemate cannot clean up: its container dies with it
    (parent-death signal) and the next casemate removes the stale cgroup."""
    p = subprocess.Popen([CASEMATE, "run", rootfs, "/bin/sh", "-c", "echo ready; sleep 100"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    kids = [pid for pid in os.listdir("/proc") if pid.isdigit() and _ppid(pid) == p.pid]
    assert kids
    p.kill()
    p.communicate(timeout=20)
    deadline = time.time() + 10
    while any(os.path.exists(f"/proc/{k}") for k in kids) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{k}") for k in kids), "container outlived casemate"
    run("run", rootfs, "true", check=0)  # garbage-collects the stale cgroup


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


# --------------------------------------------------------------- terminal

def test_tty_allocates_a_terminal_inside(rootfs):
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CASEMATE, [CASEMATE, "run", "-t", ROOTFS, "/bin/sh", "-c", "tty; exit 7"])
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
    assert os.waitstatus_to_exitcode(status) == 7
    assert b"/dev/pts/0" in out


def test_interactive_stdin(rootfs):
    p = run("run", "-i", rootfs, "cat", input="through stdin\n", check=0)
    assert p.stdout == "through stdin\n"
    p = run("run", rootfs, "cat", input="ignored\n", check=0)
    assert p.stdout == ""


# ---------------------------------------------------------------- volumes

def test_volume_is_nosuid_nodev_noexec_and_ro(tmp_rootfs, tmp_path):
    rootfs = tmp_rootfs
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "f").write_text("x")
    p = run("run", "-v", f"{vol}:/data:ro", rootfs, "/bin/sh", "-c",
            "grep ' /data ' /proc/self/mountinfo; touch /data/new; echo w=$?", check=0)
    opts = p.stdout.split("\n")[0]
    for o in ("ro", "nosuid", "nodev", "noexec"):
        assert o in opts.split()[5].split(","), opts
    assert "w=1" in p.stdout


def test_volume_exec_option(tmp_rootfs, tmp_path):
    rootfs = tmp_rootfs
    vol = tmp_path / "vol"
    vol.mkdir()
    os.chmod(vol, 0o777)
    # busybox picks its applet from its name: call the copy "true".
    subprocess.run(["cp", f"{ROOTFS}/bin/busybox", str(vol / "true")], check=True)
    run("run", "-v", f"{vol}:/data", rootfs, "/data/true", check=126)
    run("run", "-v", f"{vol}:/data:exec", rootfs, "/data/true", check=0)


def test_seed001_setuid_shell_through_a_volume_is_harmless(tmp_rootfs, tmp_path):
    """Seed 001: root in the container copies a shell into a volume and sets
    its setuid bit, hoping a host user runs it. Whatever lands on the host
    must not be a setuid-root file."""
    vol = tmp_path / "vol"
    vol.mkdir()
    os.chmod(vol, 0o777)
    run("run", "--cap-add=ALL", "-v", f"{vol}:/data", tmp_rootfs, "/bin/sh", "-c",
        "cp /bin/busybox /data/sh; chown 0:0 /data/sh; chmod 4755 /data/sh; ls -ln /data")
    for f in vol.iterdir():
        st = os.lstat(f)
        assert not (st.st_mode & 0o4000 and st.st_uid == 0), f"setuid-root file on the host: {f}"
        assert st.st_uid >= 65536, "files written by container root belong to its unprivileged range"


# ------------------------------------------------------------ tmpfs flags

def test_tmpfs_flag(tmp_rootfs):
    rootfs = tmp_rootfs
    p = run("run", "--tmpfs", "/cache:size=1m", rootfs, "/bin/sh", "-c",
            "grep ' /cache ' /proc/self/mountinfo; dd if=/dev/zero of=/cache/f bs=1k count=2048 2>&1; "
            "echo rc=$?", check=0)
    assert "nosuid" in p.stdout and "noexec" in p.stdout
    assert "rc=1" in p.stdout  # size limit enforced


def test_userns_host_warns(rootfs):
    p = run("run", "--userns=host", rootfs, "cat", "/proc/self/uid_map", check=0)
    assert "warning" in p.stderr
    assert p.stdout.split()[:3] == ["0", "0", "4294967295"]


# ---------------------------------------------------------- published ports

def _listening(port):
    """Local addresses listening on `port` (host network namespace)."""
    found = []
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:
                found.append(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


@pytest.mark.parametrize("spec,addr", [("18081:8080", "127.0.0.1"),
                                       ("127.0.0.1:18082:8080", "127.0.0.1")])
def test_publish_port_on_chosen_interface(rootfs, spec, addr):
    """Seed 000: publish only the needed port, on a chosen interface; the
    default interface is loopback, never all of them."""
    import socket
    hostport = int(spec.split(":")[-2])
    p = subprocess.Popen([CASEMATE, "run", "-p", spec, rootfs, "/bin/sh", "-c",
                          "echo hello-from-container | nc -l -p 8080"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while not _listening(hostport) and time.time() < deadline:
            time.sleep(0.05)
        assert _listening(hostport) == [addr]
        data = b""
        deadline = time.time() + 10
        while b"hello" not in data and time.time() < deadline:
            try:
                s = socket.create_connection(("127.0.0.1", hostport), timeout=5)
                data = s.recv(100)
                s.close()
            except OSError:
                time.sleep(0.1)
        assert data == b"hello-from-container\n"
        p.communicate(timeout=20)
        assert p.returncode == 0
    finally:
        p.kill()
        p.communicate()


def test_publish_port_bad_spec(rootfs):
    p = run("run", "-p", "1.2.3:80:80", rootfs, "true", check=125)
    assert "IP address" in p.stderr


def test_concurrent_containers_get_distinct_host_ranges(rootfs):
    """Ranges are allocated safely when many containers start at once."""
    procs = [subprocess.Popen([CASEMATE, "run", rootfs, "/bin/sh", "-c",
                               "cut -c1-40 /proc/self/uid_map; sleep 1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(12)]
    starts = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        starts.append(int(out.split()[1]))
    assert len(set(starts)) == len(starts), starts


def test_writable_root_cannot_fill_the_host_disk(tmp_rootfs):
    """Seed 000: a container must not fill the host disk. A writable root is
    a size-limited layer in memory."""
    p = run("run", "--read-only=false", "--storage-opt", "size=2m", tmp_rootfs, "/bin/sh", "-c",
            "dd if=/dev/zero of=/big bs=1k count=4096 2>&1; echo rc=$?", check=0)
    assert "rc=1" in p.stdout
    assert not (tmp_rootfs / "big").exists()


def test_seccomp_cache_is_used_and_a_damaged_entry_is_rebuilt(rootfs, tmp_path):
    """Compiled filters are cached under the state root; a damaged cache
    file must never weaken the filter."""
    root = tmp_path / "state"
    check = "grep Seccomp: /proc/self/status; unshare -U true; echo unshare=$?"
    first = run("--root", root, "run", rootfs, "/bin/sh", "-c", check, check=0)
    files = list((root / ".seccomp").iterdir())
    assert len(files) == 1 and files[0].stat().st_mode & 0o077 == 0
    # The cache is not a container.
    assert run("--root", root, "list", "-q", check=0).stdout.strip() == ""
    good = files[0].read_bytes()
    flipped = bytearray(good)
    flipped[-3] ^= 0xFF  # same size, one instruction changed
    for damage in (b"", b"casemate-bpf-1\n" + b"\x00" * 40, good[:100], bytes(flipped)):
        files[0].write_bytes(damage)
        p = run("--root", root, "run", rootfs, "/bin/sh", "-c", check, check=0)
        assert p.stdout == first.stdout
        assert "Seccomp:\t2" in p.stdout and "unshare=1" in p.stdout
        assert files[0].read_bytes() == good, "a damaged entry must be compiled again"


def test_container_sees_its_own_cgroup_read_only(rootfs):
    p = run("run", "--pids-limit=77", rootfs, "/bin/sh", "-c",
            "cat /proc/self/cgroup | grep -c ':/$'; "
            "f=/sys/fs/cgroup/pids/pids.max; [ -e $f ] || f=/sys/fs/cgroup/pids.max; "
            "cat $f; echo 1000 > $f; echo write=$?", check=0)
    out = p.stdout.split()
    assert int(out[0]) >= 1          # every hierarchy shows "/": its own cgroup is the root
    assert out[1] == "77"            # the limit is visible...
    assert "write=1" in p.stdout     # ...and read-only
