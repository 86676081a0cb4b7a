"""seccomp in `casemate run`: seed 001's chmod.json with both spellings,
the default profile's refusals (user namespaces, keyring, io_uring, AF_VSOCK,
AF_ALG), seccomp=unconfined, and bad profiles refused with exit 125."""
import os
import shutil
import subprocess
import tempfile

import pytest

CASEMATE = os.environ["CASEMATE"]
ROOTFS = os.environ["ROOTFS"]

# Seed 001, verbatim.
CHMOD_JSON = ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
              '[{ "name": "chmod", "action": "SCMP_ACT_ERRNO" }]}')

# A static probe that reports the errno of each refused syscall, so a test
# tells "refused by the filter" (EPERM/ENOSYS) from "not supported here".
PROBE_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>
static void report(const char *what, long rc)
{
    printf("%s %s\n", what, rc == -1 ? strerrorname_np(errno) : "OK");
}
int main(void)
{
    char params[120] = {0};
    report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    report("add_key", syscall(SYS_add_key, "user", "cm", "x", 1, KEY_SPEC_SESSION_KEYRING));
    report("unshare_user", unshare(CLONE_NEWUSER));
    report("clone3", syscall(SYS_clone3, NULL, 0));
    report("io_uring_setup", syscall(SYS_io_uring_setup, 1, params));
    report("socket_vsock", socket(40, SOCK_STREAM, 0));
    report("socket_alg", socket(38, SOCK_SEQPACKET, 0));
    report("socket_inet", socket(AF_INET, SOCK_DGRAM, 0));
    report("getpid", getpid() > 0 ? 0 : -1);
    return 0;
}
"""


def casemate(*args, timeout=60):
    return subprocess.run([CASEMATE, *[str(a) for a in args]], capture_output=True,
                          text=True, timeout=timeout)


def explain(p):
    return f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="seccomp-it.")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def chmod_json(workdir):
    path = os.path.join(workdir, "chmod.json")
    with open(path, "w") as f:
        f.write(CHMOD_JSON)
    return path


@pytest.fixture
def probe_rootfs(workdir):
    """A copy of the busybox root with /probe, a static C program."""
    src = os.path.join(workdir, "probe.c")
    with open(src, "w") as f:
        f.write(PROBE_C)
    root = os.path.join(workdir, "rootfs")
    subprocess.run(["cp", "-a", ROOTFS, root], check=True)
    cc = subprocess.run(["gcc", "-static", "-O2", "-o", os.path.join(root, "probe"), src],
                        capture_output=True, text=True)
    assert cc.returncode == 0, f"cannot build the probe:\n{cc.stderr}"
    return root


def probe_results(p):
    assert p.returncode == 0, explain(p)
    return dict(line.split(" ", 1) for line in p.stdout.strip().splitlines())


# ------------------------------------------------------------ seed 001

@pytest.mark.parametrize("spelling", ["seccomp=", "seccomp:"])
def test_seed_chmod_json_refuses_chmod(chmod_json, spelling):
    # Seed 001: docker run --security-opt seccomp:chmod.json ... chmod 777
    p = casemate("run", "--security-opt", spelling + chmod_json, ROOTFS,
                 "/bin/sh", "-c", "touch /tmp/x && chmod 777 /tmp/x")
    assert p.returncode != 0, explain(p)
    assert p.returncode != 125, explain(p)
    assert "Operation not permitted" in p.stderr, explain(p)


def test_seed_chmod_json_leaves_other_syscalls(chmod_json):
    # Allow by default: the same container can still write and list.
    p = casemate("run", "--security-opt", "seccomp=" + chmod_json, ROOTFS,
                 "/bin/sh", "-c", "echo hi > /tmp/x && cat /tmp/x && ls / >/dev/null")
    assert p.returncode == 0, explain(p)
    assert p.stdout.strip() == "hi"


def test_chmod_works_under_the_default_profile():
    # The control for the seed test: chmod itself is allowed by default.
    p = casemate("run", ROOTFS, "/bin/sh", "-c",
                 "touch /tmp/x && chmod 750 /tmp/x && stat -c %a /tmp/x")
    assert p.returncode == 0, explain(p)
    assert p.stdout.strip() == "750"


# ------------------------------------------------------ default profile

def test_default_profile_refuses_unshare_user():
    p = casemate("run", ROOTFS, "unshare", "-U", "true")
    assert p.returncode not in (0, 125), explain(p)
    assert "Operation not permitted" in p.stderr, explain(p)


def test_default_profile_refusals_seen_by_a_probe(probe_rootfs):
    r = probe_results(casemate("run", probe_rootfs, "/probe"))
    assert r["keyctl"] == "EPERM", r
    assert r["add_key"] == "EPERM", r
    assert r["unshare_user"] == "EPERM", r
    assert r["clone3"] == "ENOSYS", r
    assert r["io_uring_setup"] == "EPERM", r
    assert r["socket_vsock"] == "EPERM", r
    assert r["socket_alg"] == "EPERM", r
    # ...while ordinary work goes on.
    assert r["socket_inet"] == "OK", r
    assert r["getpid"] == "OK", r


def test_unconfined_lifts_the_filter(probe_rootfs):
    # The control for the probe: without seccomp, the keyring answers with
    # the kernel's own result, so the EPERM above was the filter's.
    p = casemate("run", "--security-opt", "seccomp=unconfined", probe_rootfs, "/probe")
    r = probe_results(p)
    assert r["keyctl"] != "EPERM", r
    assert r["clone3"] != "ENOSYS", r


def test_cap_sys_admin_opens_docker_cap_rules_but_not_user_namespaces():
    # Docker's rule: mount/umount2 and unshare are allowed when CAP_SYS_ADMIN
    # is granted, so the filter must be compiled against the granted caps.
    p = casemate("run", "--cap-add", "SYS_ADMIN", ROOTFS, "/bin/sh", "-c",
                 "mount -t tmpfs none /tmp && umount /tmp && unshare -m true && echo ok")
    assert p.returncode == 0, explain(p)
    assert p.stdout.strip() == "ok"
    # casemate's own rule holds even then.
    p = casemate("run", "--cap-add", "SYS_ADMIN", ROOTFS, "unshare", "-U", "true")
    assert p.returncode not in (0, 125), explain(p)
    assert "Operation not permitted" in p.stderr, explain(p)


def test_without_cap_sys_admin_mount_is_refused():
    p = casemate("run", ROOTFS, "/bin/sh", "-c", "mount -t tmpfs none /tmp")
    assert p.returncode not in (0, 125), explain(p)


# --------------------------------------------------------- unconfined

def test_unconfined_warns():
    p = casemate("run", "--security-opt", "seccomp=unconfined", ROOTFS,
                 "/bin/sh", "-c", "grep Seccomp: /proc/self/status")
    assert p.returncode == 0, explain(p)
    assert "warning" in p.stderr and "seccomp" in p.stderr, explain(p)
    assert p.stdout.split()[1] == "0", explain(p)


# --------------------------------------------------------- bad profiles

def assert_refused(p, *needles):
    assert p.returncode == 125, explain(p)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, explain(p)
    for n in needles:
        assert n in lines[0], explain(p)


def test_malformed_json_is_refused(workdir):
    path = os.path.join(workdir, "broken.json")
    with open(path, "w") as f:
        f.write('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [')
    p = casemate("run", "--security-opt", "seccomp=" + path, ROOTFS, "/bin/true")
    assert_refused(p, path, "invalid JSON")


def test_unknown_action_is_refused_naming_the_field(workdir):
    path = os.path.join(workdir, "chmod.json")
    with open(path, "w") as f:
        f.write('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
                '[{"name": "chmod", "action": "SCMP_ACT_FOO"}]}')
    p = casemate("run", "--security-opt", "seccomp=" + path, ROOTFS, "/bin/true")
    assert_refused(p, path, 'syscalls[0].action: unknown action "SCMP_ACT_FOO"')


def test_missing_profile_is_refused(workdir):
    path = os.path.join(workdir, "nonexistent.json")
    p = casemate("run", "--security-opt", "seccomp=" + path, ROOTFS, "/bin/true")
    assert_refused(p, path, "No such file or directory")
