"""The OCI runtime command line, driven as an engine drives it (runc's
interface): create, start, state, kill, delete, exec --process, ps,
update --resources, hooks, console socket, --log, and the host policy."""
import array
import json
import os
import socket
import subprocess
import time
import uuid

import pytest

from conftest import CASEMATE, ROOTFS, run

request_cleanup = []


@pytest.fixture(autouse=True)
def _cleanup_after():
    yield
    while request_cleanup:
        request_cleanup.pop()()


def create(root, *args, env=None, check=0):
    """`create` as an engine runs it: the container's init keeps the stdio
    it was given (as runc's does), so give it files, not our pipes."""
    with open(os.devnull, "rb") as null, open(os.path.join(str(root) + ".out"), "wb") as out, \
            open(os.path.join(str(root) + ".err"), "wb+") as err:
        p = subprocess.run([CASEMATE, "--root", str(root), "create", *[str(a) for a in args]],
                           stdin=null, stdout=out, stderr=err, timeout=30, env=env)
        err.seek(0)
        text = err.read().decode()
    assert check is None or p.returncode == check, text
    return p.returncode, text


def wait_status(root, cid, want, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = run("--root", root, "state", cid)
        if p.returncode == 0 and json.loads(p.stdout)["status"] == want:
            return json.loads(p.stdout)
        time.sleep(0.05)
    raise AssertionError(f"{cid} never became {want}: {p.stdout} {p.stderr}")


@pytest.fixture
def bundle(tmp_path):
    """A bundle from `casemate spec`, on the busybox rootfs, with a process
    the test sets; containers created in it are deleted afterwards."""
    b = tmp_path / "bundle"
    b.mkdir()
    run("spec", "--bundle", b, check=0)
    cfg = json.loads((b / "config.json").read_text())
    cfg["root"] = {"path": ROOTFS, "readonly": True}
    cfg["process"]["terminal"] = False
    root = tmp_path / "state"
    made = []

    def write(args, **changes):
        cfg["process"]["args"] = args
        for k, v in changes.items():
            cfg[k] = v
        (b / "config.json").write_text(json.dumps(cfg))
        cid = f"oci-{uuid.uuid4().hex[:10]}"
        made.append(cid)
        return b, root, cid, cfg
    yield write
    for cid in made:
        run("--root", root, "delete", "--force", cid)


def test_create_start_state_kill_delete(bundle, tmp_path):
    b, root, cid, _ = bundle(["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    pidfile = tmp_path / "pid"
    create(root, "--bundle", b, "--pid-file", pidfile, cid)
    st = wait_status(root, cid, "created")
    assert int(pidfile.read_text()) == st["pid"]
    assert st["bundle"] == str(b)
    # Created: the init waits, casemate's code, before the user's process.
    run("--root", root, "start", cid, check=0)
    wait_status(root, cid, "running")
    p = run("--root", root, "ps", "--format", "json", cid, check=0)
    assert st["pid"] in json.loads(p.stdout)
    run("--root", root, "kill", cid, "15", check=0)
    wait_status(root, cid, "stopped")
    run("--root", root, "delete", cid, check=0)
    p = run("--root", root, "state", cid)
    assert p.returncode == 125


def test_start_twice_and_unknown_ids(bundle):
    b, root, cid, _ = bundle(["/bin/true"])
    create(root, "--bundle", b, cid)
    run("--root", root, "start", cid, check=0)
    p = run("--root", root, "start", cid, check=125)
    assert "not created" in p.stderr or "stopped" in p.stderr or "running" in p.stderr
    _, err = create(root, "--bundle", b, cid, check=125)
    assert "exists" in err
    run("--root", root, "start", "no-such-ctr", check=125)


def test_delete_of_a_created_container(bundle):
    b, root, cid, _ = bundle(["/bin/true"])
    create(root, "--bundle", b, cid)
    st = wait_status(root, cid, "created")
    run("--root", root, "delete", cid, check=0)
    time.sleep(0.1)
    assert not os.path.exists(f"/proc/{st['pid']}") or \
        open(f"/proc/{st['pid']}/stat").read().split()[2] == "Z"


def test_exec_process_detach_pid_file(bundle, tmp_path):
    b, root, cid, cfg = bundle(["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    create(root, "--bundle", b, cid)
    run("--root", root, "start", cid, check=0)
    proc = dict(cfg["process"])
    proc["args"] = ["/bin/sh", "-c", "grep -E 'CapEff|NoNewPrivs' /proc/self/status"]
    pf = tmp_path / "process.json"
    pf.write_text(json.dumps(proc))
    p = run("--root", root, "exec", "--process", pf, cid, check=0)
    assert "NoNewPrivs:\t1" in p.stdout
    assert int(p.stdout.split()[1], 16) == 0
    # --detach: returns once the process runs, and writes its pid.
    proc["args"] = ["/bin/sleep", "2"]
    pf.write_text(json.dumps(proc))
    pidfile = tmp_path / "exec.pid"
    run("--root", root, "exec", "--process", pf, "--detach", "--pid-file", pidfile, cid, check=0)
    pid = int(pidfile.read_text())
    assert os.path.exists(f"/proc/{pid}")
    run("--root", root, "kill", "--all", cid, "KILL", check=0)
    wait_status(root, cid, "stopped")


def test_update_resources_live(bundle):
    b, root, cid, _ = bundle(["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    create(root, "--bundle", b, cid)
    run("--root", root, "start", cid, check=0)
    run("--root", root, "update", "--resources", "-", cid,
        input=json.dumps({"pids": {"limit": 42}}), check=0)
    p = run("--root", root, "exec", cid, "/bin/sh", "-c",
            "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max", check=0)
    assert p.stdout.strip() == "42"


def test_hooks_run_in_order_with_state_on_stdin(bundle, tmp_path):
    # createContainer hooks run in the container's namespaces, as its root
    # (an unprivileged host id): the hook and its log must be reachable.
    import shutil
    import tempfile
    shared = tempfile.mkdtemp(prefix="casemate-hooks-", dir="/tmp")
    os.chmod(shared, 0o777)
    request_cleanup.append(lambda: shutil.rmtree(shared, ignore_errors=True))
    log = os.path.join(shared, "hooks.log")
    open(log, "w").close()
    os.chmod(log, 0o666)
    hook = type(tmp_path)(shared) / "hook.sh"
    hook.write_text(f"#!/bin/sh\nread state\necho \"$1 $state\" >> {log}\n")
    hook.chmod(0o755)
    hooks = {k: [{"path": str(hook), "args": ["hook.sh", k]}]
             for k in ("prestart", "createRuntime", "poststart", "poststop")}
    # createContainer runs before pivot_root (runtime paths), startContainer
    # inside the container: it writes into a tmpfs the test reads back.
    hooks["createContainer"] = [{"path": str(hook), "args": ["hook.sh", "createContainer"]}]
    hooks["startContainer"] = [{"path": "/bin/sh", "args": ["sh", "-c", "echo started > /tmp/hook"]}]
    b, root, cid, _ = bundle(["/bin/sh", "-c", "cat /tmp/hook"], hooks=hooks)
    create(root, "--bundle", b, cid)
    run("--root", root, "start", cid, check=0)
    wait_status(root, cid, "stopped")
    run("--root", root, "delete", cid, check=0)
    lines = open(log).read().splitlines()
    kinds = [l.split()[0] for l in lines]
    assert kinds == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"], lines
    for l in lines:
        assert json.loads(l.split(" ", 1)[1])["id"] == cid


def test_console_socket_receives_the_terminal(bundle, tmp_path):
    b, root, cid, cfg = bundle(["/bin/sh", "-c", "tty; sleep 0.3"])
    cfg["process"]["terminal"] = True
    (b / "config.json").write_text(json.dumps(cfg))
    sockpath = str(tmp_path / "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sockpath)
    srv.listen(1)
    p = subprocess.Popen([CASEMATE, "--root", str(root), "create", "--bundle", str(b),
                          "--console-socket", sockpath, cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    srv.settimeout(10)
    conn, _ = srv.accept()
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(64, socket.CMSG_LEN(fds.itemsize))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    conn.close()
    srv.close()
    assert p.wait(timeout=20) == 0, p.stderr.read()
    assert len(fds) == 1
    master = fds[0]
    run("--root", root, "start", cid, check=0)
    out = b""
    deadline = time.time() + 10
    while b"/dev/pts/" not in out and time.time() < deadline:
        try:
            out += os.read(master, 1024)
        except OSError:
            break
    os.close(master)
    assert b"/dev/pts/0" in out


def test_errors_go_to_the_log_as_json(bundle, tmp_path):
    b, root, cid, cfg = bundle(["/bin/true"])
    cfg["linux"]["intelRdt"] = {"closID": "x"}
    (b / "config.json").write_text(json.dumps(cfg))
    log = tmp_path / "log.json"
    p = run("--root", root, "--log", log, "--log-format", "json", "create", "--bundle", b, cid, check=125)
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error" and "intelRdt" in entry["msg"]
    assert "intelRdt" in p.stderr  # refused before anything runs: no init holds the pipes


def test_host_policy_refuses_with_the_rule_named(bundle, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"refuse": ["sensitive-host-mount", "privileged"]}))
    b, root, cid, cfg = bundle(["/bin/true"])
    cfg["mounts"].append({"destination": "/host", "type": "bind", "source": "/",
                          "options": ["rbind", "ro"]})
    (b / "config.json").write_text(json.dumps(cfg))
    env = dict(os.environ, CASEMATE_POLICY=str(policy))
    _, err = create(root, "--bundle", b, cid, env=env, check=125)
    assert "refused by host policy" in err and "sensitive-host-mount" in err
    assert err.count("\n") == 1
    assert not (root / cid).exists()
    # The same policy holds for casemate's own run.
    p = run("run", "-v", "/:/host:ro", ROOTFS, "true", env=env, check=125)
    assert "refused by host policy" in p.stderr


def test_run_bundle_foreground(bundle):
    b, root, cid, _ = bundle(["/bin/sh", "-c", "exit 5"])
    run("--root", root, "run", "--bundle", b, cid, check=5)


def test_seccomp_notify_goes_to_the_listener(bundle, tmp_path):
    """SCMP_ACT_NOTIFY with listenerPath: the agent gets the listener fd and
    the container process state, and answers the container's mkdir."""
    import fcntl
    import struct
    import threading
    sockpath = str(tmp_path / "agent.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sockpath)
    srv.listen(1)
    srv.settimeout(20)
    got = {}

    def agent():
        conn, _ = srv.accept()
        fds = array.array("i")
        msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_LEN(fds.itemsize))
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(data[:fds.itemsize])
        got["state"] = json.loads(msg)
        conn.close()
        notify_fd = fds[0]
        # SECCOMP_IOCTL_NOTIF_RECV / SEND: struct seccomp_notif is 80
        # bytes, seccomp_notif_resp 24.
        recv_ioctl, send_ioctl = 0xC0502100, 0xC0182101
        for _ in range(8):
            buf = bytearray(80)
            try:
                fcntl.ioctl(notify_fd, recv_ioctl, buf)
            except OSError as e:
                got.setdefault("errors", []).append(repr(e))
                break
            nid = struct.unpack_from("Q", buf, 0)[0]
            got.setdefault("nr", struct.unpack_from("i", buf, 16)[0])
            fcntl.ioctl(notify_fd, send_ioctl, bytearray(struct.pack("QqiI", nid, 0, -13, 0)))
        os.close(notify_fd)

    t = threading.Thread(target=agent, daemon=True)
    t.start()
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sockpath,
               "listenerMetadata": "casemate-test",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    b, root, cid, cfg = bundle(["/bin/sh", "-c", "mkdir /tmp/x; echo rc=$?"])
    cfg["linux"]["seccomp"] = profile
    (b / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "out"
    with open(out, "w") as o:
        p = subprocess.run([CASEMATE, "--root", str(root), "run", "--bundle", str(b), cid],
                           stdout=o, stderr=subprocess.PIPE, text=True, timeout=30)
    t.join(timeout=10)
    srv.close()
    assert p.returncode == 0, p.stderr
    assert "rc=1" in out.read_text()
    assert got["state"]["fds"] == ["seccompFd"] and got["state"]["metadata"] == "casemate-test"
    assert got["state"]["state"]["id"] == cid and got["state"]["pid"] > 0
    assert "nr" in got, got


def test_seccomp_notify_without_a_listener_is_refused(rootfs, tmp_path):
    prof = tmp_path / "notify.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}))
    p = run("run", "--security-opt", f"seccomp={prof}", rootfs, "true", check=125)
    assert "listenerPath" in p.stderr


def test_host_policy_floor_raises_an_engines_spec(bundle, tmp_path):
    """An engine's spec without a user namespace, no_new_privs, seccomp or
    limits is raised to the policy's floor."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"floor": {"userns": True, "no_new_privileges": True,
                                            "pids_limit": 99, "seccomp": "default"}}))
    b, root, cid, cfg = bundle(["/bin/sh", "-c",
                                "cat /proc/self/uid_map; grep -E 'NoNewPrivs|Seccomp:' /proc/self/status; "
                                "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"])
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "user"]
    cfg["linux"].pop("uidMappings", None)
    cfg["linux"].pop("gidMappings", None)
    cfg["linux"].pop("seccomp", None)
    cfg["linux"].get("resources", {}).pop("pids", None)
    cfg["process"]["noNewPrivileges"] = False
    (b / "config.json").write_text(json.dumps(cfg))
    env = dict(os.environ, CASEMATE_POLICY=str(policy))
    out = tmp_path / "out"
    with open(out, "w") as o:
        p = subprocess.run([CASEMATE, "--root", str(root), "run", "--bundle", str(b), cid],
                           stdout=o, stderr=subprocess.PIPE, text=True, timeout=30, env=env)
    assert p.returncode == 0, p.stderr
    text = out.read_text().split()
    assert text[0] == "0" and int(text[1]) >= 65536          # a user namespace of its own
    assert "NoNewPrivs:" in text and text[text.index("NoNewPrivs:") + 1] == "1"
    assert text[text.index("Seccomp:") + 1] == "2"
    assert text[-1] == "99"
    assert not list((root / ".userns").iterdir()) if (root / ".userns").exists() else True


def test_preserve_fds(bundle, tmp_path):
    b, root, cid, _ = bundle(["/bin/sh", "-c", "echo through-fd-3 >&3"])
    r, w = os.pipe()
    # The pipe becomes fd 3 of casemate, as an engine would pass it
    # (Python's own fds are not inheritable, so only it passes).
    p = subprocess.run([CASEMATE, "--root", str(root), "run", "--bundle", str(b), "--preserve-fds", "1", cid],
                       preexec_fn=lambda: os.dup2(w, 3), close_fds=False,
                       capture_output=True, text=True, timeout=30)
    os.close(w)
    data = os.read(r, 100)
    os.close(r)
    assert p.returncode == 0, p.stderr
    assert data == b"through-fd-3\n"


def test_cgroups_path_is_the_containers_cgroup(bundle):
    """linux.cgroupsPath is the engine's cgroup for the container (engines
    read stats there): the container is in it (beneath casemate's own
    directory), its limits count there, and delete removes it."""
    b, root, cid, cfg = bundle(["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    parent = f"cm-oci-test-{uuid.uuid4().hex[:8]}"
    cfg["linux"]["cgroupsPath"] = f"/{parent}/{cid}"
    cfg["linux"].setdefault("resources", {})["pids"] = {"limit": 55}
    (b / "config.json").write_text(json.dumps(cfg))
    pids_dir = f"/sys/fs/cgroup/pids/{parent}/{cid}"
    if not os.path.isdir("/sys/fs/cgroup/pids"):
        pids_dir = f"/sys/fs/cgroup/{parent}/{cid}"
    try:
        create(root, "--bundle", b, cid)
        run("--root", root, "start", cid, check=0)
        leaf = [d for d in os.listdir(pids_dir) if d.startswith("casemate-")]
        assert len(leaf) == 1
        assert open(f"{pids_dir}/{leaf[0]}/pids.max").read().strip() == "55"
        st = wait_status(root, cid, "running")
        assert str(st["pid"]) in open(f"{pids_dir}/{leaf[0]}/cgroup.procs").read().split()
        assert int(open(f"{pids_dir}/pids.current").read()) >= 1   # hierarchical
        run("--root", root, "delete", "--force", cid, check=0)
        assert not os.path.exists(pids_dir)
    finally:
        for base in ("/sys/fs/cgroup",):
            for dirpath, dirnames, _ in os.walk(base):
                if os.path.basename(dirpath) == parent:
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass
                if dirpath.count("/") > 6:
                    dirnames[:] = []
