"""The runtime escapes that broke runc and crun, each replayed against
casemate with a hostile root filesystem or setup; each must fail."""
import hashlib
import os
import signal
import subprocess

import pytest

from conftest import CASEMATE, ROOTFS, run


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_cve_2024_21626_no_inherited_fds_and_cwd_inside(rootfs, tmp_path):
    """runc leaked a host directory fd into the container (WORKDIR
    /proc/self/fd/7). casemate gives the command fds 0-2 only, cwd inside."""
    leak_dir = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    leak_file = os.open("/etc/hostname", os.O_RDONLY)
    try:
        p = subprocess.run(
            [CASEMATE, "run", rootfs, "/bin/sh", "-c",
             f"for fd in 3 4 5 6 7 8 9 {leak_dir} {leak_file}; do "
             "[ -e /proc/self/fd/$fd ] && echo leaked $fd $(readlink /proc/self/fd/$fd); done; "
             "readlink /proc/self/cwd; ls /proc/self/fd"],
            pass_fds=(leak_dir, leak_file), cwd=str(tmp_path),
            capture_output=True, text=True, timeout=30)
    finally:
        os.close(leak_dir)
        os.close(leak_file)
    assert p.returncode == 0, p.stderr
    assert "leaked" not in p.stdout, p.stdout
    lines = p.stdout.split()
    assert lines[0] == "/"
    assert set(lines[1:]) <= {"0", "1", "2", "3"}  # 3 is ls's own directory fd


def test_cve_2024_21626_workdir_through_proc_fd_is_refused(rootfs):
    p = run("run", "-w", "/proc/self/fd/7", rootfs, "true")
    assert p.returncode == 125


def test_cve_2019_5736_casemate_runs_from_a_sealed_memfd(rootfs):
    """runc's binary was overwritten through /proc/<pid>/exe from inside the
    container. casemate's processes in the container run from a sealed memfd
    copy: the host binary is not reachable and the copy cannot be written."""
    before = sha256(CASEMATE)
    p = subprocess.Popen([CASEMATE, "run", "--init", "--cap-add=ALL", rootfs, "/bin/sh", "-c",
                          "readlink /proc/1/exe; echo pwned > /proc/1/exe; echo write=$?; "
                          "cat /bin/busybox > /proc/1/exe; echo write2=$?; "
                          "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = ""
    while "ready" not in out:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        out += line
    # Seen from the host, casemate and the container's init run from memfd.
    exe = os.readlink(f"/proc/{p.pid}/exe")
    init_pid = None
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == str(p.pid):
                        init_pid = pid
            except OSError:
                pass
    init_exe = os.readlink(f"/proc/{init_pid}/exe")
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=20)
    assert exe.startswith("/memfd:casemate"), exe
    assert init_exe.startswith("/memfd:casemate"), init_exe
    assert "casemate" not in out.splitlines()[0] or "memfd" in out.splitlines()[0]
    assert "write=0" not in out and "write2=0" not in out
    assert sha256(CASEMATE) == before


def test_cve_2021_30465_mount_targets_resolve_inside_the_root(tmp_rootfs, tmp_path):
    """runc followed a symlink swapped into a mount target out of the root.
    casemate resolves every target inside the root (RESOLVE_IN_ROOT)."""
    host_dir = tmp_path / "hostdir"
    host_dir.mkdir()
    (host_dir / "hostfile").write_text("host")
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "marker").write_text("volume\n")
    # /data -> ../../../../../../.. /etc : up and out, then into /etc
    os.symlink("../../../../../../../../etc", tmp_rootfs / "data")
    # /cache -> an absolute path that exists on the host and in the image
    (tmp_rootfs / "var" / "tmp" / "imagefile").write_text("image")
    os.symlink("/var/tmp", tmp_rootfs / "cache")
    marker = f"casemate-escape-test-{os.getpid()}"
    p = run("run", "-v", f"{vol}:/data", "--tmpfs", "/cache", tmp_rootfs, "/bin/sh", "-c",
            f"cat /etc/marker; ls -A /var/tmp | wc -l; touch /cache/{marker}; echo ok", check=0)
    out = p.stdout.split()
    assert out[0] == "volume"   # the volume landed on the root's own /etc
    assert out[1] == "0"        # the tmpfs landed on the root's /var/tmp, hiding imagefile
    assert not os.path.exists(f"/var/tmp/{marker}")
    assert not os.path.exists("/etc/marker")
    assert sorted(os.listdir(host_dir)) == ["hostfile"]


def test_cve_2025_31133_masks_use_the_verified_host_dev_null(tmp_rootfs):
    """runc masked paths by bind-mounting the container's /dev/null, which
    the image could make a symlink to a sensitive /proc file."""
    dev = tmp_rootfs / "dev"
    dev.mkdir(exist_ok=True)
    os.symlink("/proc/sys/kernel/core_pattern", dev / "null")
    core_pattern = open("/proc/sys/kernel/core_pattern").read()
    p = run("run", tmp_rootfs, "/bin/sh", "-c",
            "stat -c '%t:%T %F' /proc/timer_list; wc -c < /proc/timer_list", check=0)
    lines = p.stdout.splitlines()
    assert lines[0] == "1:3 character special file", p.stdout
    assert lines[1].strip() == "0"
    assert open("/proc/sys/kernel/core_pattern").read() == core_pattern


def test_proc_symlink_in_root_is_refused(tmp_rootfs, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    os.rmdir(tmp_rootfs / "proc")
    os.symlink(str(target), tmp_rootfs / "proc")
    p = run("run", tmp_rootfs, "true", check=125)
    assert "/proc" in p.stderr
    assert os.listdir(target) == []


def test_proc_as_a_file_is_refused(tmp_rootfs):
    os.rmdir(tmp_rootfs / "proc")
    (tmp_rootfs / "proc").write_text("not a dir")
    p = run("run", tmp_rootfs, "true", check=125)
    assert "/proc" in p.stderr


def test_setup_failure_half_way_leaves_nothing(tmp_rootfs):
    # /etc/motd is a file: a tmpfs cannot go there, after /proc, /dev, /sys
    # and /tmp are already mounted. The autouse fixture checks for leftovers.
    p = run("run", "--tmpfs", "/etc/motd/sub", tmp_rootfs, "true", check=125)
    assert "motd" in p.stderr


def test_openat2_fallback_resolves_inside_too(tmp_rootfs, tmp_path):
    """The same CVE-2021-30465 case with openat2 disabled: the hand-written
    walk must keep targets inside the root as well."""
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "marker").write_text("volume\n")
    os.symlink("../../../../../../../../etc", tmp_rootfs / "data")
    env = dict(os.environ, CASEMATE_TEST_NO_OPENAT2="1")
    p = run("run", "-v", f"{vol}:/data", tmp_rootfs, "cat", "/etc/marker", check=0, env=env)
    assert p.stdout.strip() == "volume"
    assert not os.path.exists("/etc/marker")


@pytest.mark.parametrize("backend", ["v1", "bpf"])
def test_device_cgroup_keeps_host_disks_out_even_with_cap_mknod(rootfs, backend):
    """Without a user namespace and with CAP_MKNOD, container root can make
    a node for the host's disk; the device cgroup must still refuse it.
    'bpf' forces the cgroup v2 BPF device filter (on this hybrid host the
    devices controller is v1)."""
    dev = os.stat("/").st_dev
    maj, mnr = os.major(dev), os.minor(dev)
    env = dict(os.environ)
    if backend == "bpf":
        env["CASEMATE_TEST_DEVICES_BPF"] = "1"
    p = run("run", "--userns=host", "--cap-add", "MKNOD", rootfs, "/bin/sh", "-c",
            f"mknod /dev/disk b {maj} {mnr}; echo mknod=$?; head -c 512 /dev/disk | wc -c; "
            "cat /dev/null && echo null-ok", env=env, check=0)
    assert "mknod=1" in p.stdout or p.stdout.split()[1] == "0", p.stdout
    assert "null-ok" in p.stdout
