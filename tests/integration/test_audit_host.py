"""`casemate audit host` on this machine, with a daemon.json in a temp dir
(CASEMATE_DOCKER_CONFIG_DIR), fake runtime binaries on PATH, and a tiny fake
Docker Engine API on a temp unix socket serving containers that break rules
on purpose. Everything lives under pytest's tmp_path; the server thread is
shut down by its fixture even when a test fails."""
import json
import os
import signal
import subprocess
import socketserver
import stat
import threading
import time

import pytest

from conftest import run

ID_BAD = "a1" * 32
ID_GOOD = "b2" * 32
ID_BROKEN = "c3" * 32

BAD = {
    "Id": ID_BAD, "Name": "/evil", "Image": "sha256:" + "e" * 64,
    "Config": {"User": "", "Image": "evil:latest"},
    "HostConfig": {
        "Privileged": True, "NetworkMode": "host",
        "Binds": ["/var/run/docker.sock:/var/run/docker.sock"],
        "SecurityOpt": ["seccomp=unconfined", "apparmor=unconfined"],
        "Memory": 0, "PidsLimit": 0,
        "PortBindings": {"22/tcp": [{"HostIp": "", "HostPort": "2222"}]},
    },
    "Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock",
                "Destination": "/var/run/docker.sock", "RW": True, "Propagation": "rprivate"},
               {"Type": "volume", "Source": "/var/lib/docker/volumes/v/_data",
                "Destination": "/data", "RW": True}],
}

GOOD = {
    "Id": ID_GOOD, "Name": "/good", "Image": "sha256:" + "f" * 64,
    "Config": {"User": "1000", "Image": "app:1.0"},
    "HostConfig": {
        "CapDrop": ["ALL"], "ReadonlyRootfs": True, "Memory": 268435456, "PidsLimit": 64,
        "CpuShares": 512, "NetworkMode": "bridge", "SecurityOpt": ["no-new-privileges=true"],
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
    },
    "Mounts": [{"Type": "volume", "Source": "/var/lib/docker/volumes/w/_data",
                "Destination": "/data", "RW": True}],
}


class FakeDocker(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(containers, info, broken=()):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            line = self.rfile.readline().decode()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            parts = line.split()
            path = parts[1] if len(parts) > 1 else ""
            self.server.requests.append(path)
            status, body, chunked = 404, b'{"message": "no such thing"}', False
            if path == "/info":
                status, body = 200, json.dumps(info).encode()
            elif path == "/containers/json":
                listing = [{"Id": c["Id"], "Names": [c["Name"]], "Image": c["Config"]["Image"],
                            "ImageID": c["Image"]} for c in containers]
                listing += [{"Id": b, "Names": ["/broken"], "Image": "x", "ImageID": "y"}
                            for b in broken]
                status, body, chunked = 200, json.dumps(listing).encode(), True
            else:
                for c in containers:
                    if path == f"/containers/{c['Id']}/json":
                        status, body = 200, json.dumps(c).encode()
                for b in broken:
                    if path == f"/containers/{b}/json":
                        status, body = 500, b'{"message": "boom"}'
            reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error"}[status]
            head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            if chunked:
                # Docker streams lists chunked: split the body in uneven chunks
                head += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                out = head.encode()
                for i in range(0, len(body), 37):
                    piece = body[i:i + 37]
                    out += b"%x\r\n" % len(piece) + piece + b"\r\n"
                out += b"0\r\n\r\n"
            else:
                head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                out = head.encode() + body
            self.wfile.write(out)
    return Handler


@pytest.fixture
def fake_docker(tmp_path):
    servers = []

    def start(containers, info=None, broken=()):
        sock = str(tmp_path / f"docker{len(servers)}.sock")
        srv = FakeDocker(sock, make_handler(containers, info or {
            "ServerVersion": "29.3.1", "DockerRootDir": str(tmp_path),
            "LiveRestoreEnabled": False, "SecurityOptions": ["name=seccomp,profile=builtin"],
        }, broken))
        srv.requests = []
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        servers.append((srv, t))
        os.chmod(sock, 0o660)
        return sock, srv

    yield start
    for srv, t in servers:
        srv.shutdown()
        srv.server_close()
        t.join(5)


@pytest.fixture
def docker_dir(tmp_path):
    d = tmp_path / "etc-docker"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    return d


def audit(*flags, env_extra=None, path=None, check=None):
    env = dict(os.environ)
    env.pop("DOCKER_CONTENT_TRUST", None)
    env.pop("DOCKER_HOST", None)
    env.update(env_extra or {})
    if path is not None:
        env["PATH"] = path
    return run("audit", "host", "--format", "json", *flags, env=env, check=check)


def findings(p):
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)["findings"]


def host_ids(fs):
    return {f["id"] for f in fs if f["id"].startswith("CM-HOST")}


def daemon_json(docker_dir, doc, mode=0o644):
    p = docker_dir / "daemon.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    os.chmod(p, mode)
    return str(p)


def test_runs_on_this_machine_quickly():
    t0 = time.monotonic()
    p = run("audit", "host")
    elapsed = time.monotonic() - t0
    assert p.returncode in (0, 1), p.stderr
    assert "casemate audit host" in p.stdout
    assert elapsed < 3, elapsed
    j = json.loads(run("audit", "host", "--format", "json").stdout)
    assert all(f["id"].startswith("CM-") for f in j["findings"])
    sarif = json.loads(run("audit", "host", "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"


def test_weak_daemon_json(tmp_path, docker_dir):
    dj = daemon_json(docker_dir, {
        "icc": True, "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"],
        "insecure-registries": ["registry.local:5000"],
    }, mode=0o666)
    fs = findings(audit("--docker-socket", str(tmp_path / "none.sock"),
                        env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}))
    got = host_ids(fs)
    for want in ("CM-HOST-004", "CM-HOST-005", "CM-HOST-006", "CM-HOST-007", "CM-HOST-008",
                 "CM-HOST-012", "CM-HOST-022", "CM-HOST-023", "CM-HOST-024"):
        assert want in got, (want, got)
    perms = [f for f in fs if f["id"] == "CM-HOST-012"]
    assert perms[0]["location"]["path"] == dj
    # Docker's API is not there: said once, as info, and the rest still audited
    absent = [f for f in fs if f["id"] == "CM-HOST-001"]
    assert len(absent) == 1 and absent[0]["severity"] == "info"
    assert "none.sock" in absent[0]["evidence"]


def test_hardened_daemon_json(tmp_path, docker_dir):
    daemon_json(docker_dir, {
        "icc": False, "userns-remap": "default", "live-restore": True,
        "no-new-privileges": True, "userland-proxy": False,
        "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
        "tls": True, "tlsverify": True,
    })
    fs = findings(audit("--docker-socket", str(tmp_path / "none.sock"),
                        env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir),
                                   "DOCKER_CONTENT_TRUST": "1"}))
    got = host_ids(fs)
    near = {"CM-HOST-004", "CM-HOST-005", "CM-HOST-006", "CM-HOST-007", "CM-HOST-008",
            "CM-HOST-009", "CM-HOST-012", "CM-HOST-022", "CM-HOST-023", "CM-HOST-024"}
    assert not got & near, got & near


def test_tls_without_verify(tmp_path, docker_dir):
    daemon_json(docker_dir, {"hosts": ["tcp://127.0.0.1:2376"], "tls": True})
    got = host_ids(findings(audit("--docker-socket", str(tmp_path / "none.sock"),
                                  env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)})))
    assert "CM-HOST-009" in got and "CM-HOST-008" not in got


def test_bad_daemon_json_is_125(tmp_path, docker_dir):
    dj = daemon_json(docker_dir, '{"icc": false,\n "hosts": [}')
    p = audit(env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)})
    assert p.returncode == 125
    assert dj in p.stderr and "line 2" in p.stderr, p.stderr


def test_containers_through_the_api(tmp_path, docker_dir, fake_docker):
    daemon_json(docker_dir, {"icc": False})
    sock, srv = fake_docker([BAD, GOOD], broken=[ID_BROKEN])
    p = audit("--docker-socket", sock, env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)})
    assert p.returncode == 1  # critical findings
    fs = findings(p)
    evil = {f["id"] for f in fs if (f["subject"] or "").startswith("evil ")}
    good = {f["id"] for f in fs if (f["subject"] or "").startswith("good ")}
    for want in ("CM-CFG-001", "CM-CFG-004", "CM-CFG-006", "CM-CFG-009", "CM-CFG-010",
                 "CM-CFG-012", "CM-CFG-016", "CM-CFG-021"):
        assert want in evil, (want, evil)
    # the named volume under /var/lib/docker is Docker's, not a sensitive bind
    assert "CM-CFG-017" not in evil and "CM-CFG-017" not in good
    assert good == {"CM-CFG-005"}, good
    subj = next(f["subject"] for f in fs if (f["subject"] or "").startswith("evil "))
    assert "evil:latest" in subj and "eeeeeeeeeeee" in subj  # linked to its image
    broken = [f for f in fs if f["id"] == "CM-HOST-025"]
    assert broken and "500" in broken[0]["evidence"]
    assert "CM-HOST-001" not in host_ids(fs)
    assert "/info" in srv.requests and f"/containers/{ID_GOOD}/json" in srv.requests
    # docker 29.3.1 from /info is past every fixed version in the table
    assert not [f for f in fs if f["id"] == "CM-HOST-013" and "docker " in f["evidence"]]


def test_userns_remap_reaches_the_containers(tmp_path, docker_dir, fake_docker):
    daemon_json(docker_dir, {"userns-remap": "default"})
    sock, _ = fake_docker([GOOD])
    fs = findings(audit("--docker-socket", sock,
                        env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}))
    assert not [f for f in fs if (f["subject"] or "").startswith("good ")]
    assert "CM-HOST-005" not in host_ids(fs)


def test_socket_permissions(tmp_path, docker_dir, fake_docker):
    daemon_json(docker_dir, {})
    sock, _ = fake_docker([])
    env = {"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}
    got = host_ids(findings(audit("--docker-socket", sock, env_extra=env)))
    assert not got & {"CM-HOST-010", "CM-HOST-011"}  # root:root 0660 (we run as root)
    os.chmod(sock, 0o666)
    got = host_ids(findings(audit("--docker-socket", sock, env_extra=env)))
    assert "CM-HOST-010" in got
    os.chmod(sock, 0o664)
    got = host_ids(findings(audit("--docker-socket", sock, env_extra=env)))
    assert "CM-HOST-011" in got and "CM-HOST-010" not in got


def test_ten_containers_well_under_a_second(tmp_path, docker_dir, fake_docker):
    daemon_json(docker_dir, {})
    many = []
    for i in range(10):
        c = json.loads(json.dumps(BAD))
        c["Id"] = f"{i:02x}" * 32
        c["Name"] = f"/evil{i}"
        many.append(c)
    sock, _ = fake_docker(many)
    env = {"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}
    audit("--docker-socket", sock, env_extra=env)  # warm the page cache
    t0 = time.monotonic()
    fs = findings(audit("--docker-socket", sock, env_extra=env))
    elapsed = time.monotonic() - t0
    assert len({f["subject"] for f in fs if f["id"] == "CM-CFG-001"}) == 10
    assert elapsed < 1.0, elapsed


def fake_tool(bindir, name, script):
    p = bindir / name
    p.write_text("#!/bin/sh\n" + script + "\n")
    os.chmod(p, 0o755)


def test_runtime_versions(tmp_path, docker_dir):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake_tool(bindir, "runc", 'echo "runc version 1.1.11"; echo "spec: 1.0.2-dev"')
    fake_tool(bindir, "crun", 'echo "crun version 1.30.0"')
    fake_tool(bindir, "containerd", 'echo "containerd github.com/containerd/containerd v1.4.2 x"')
    daemon_json(docker_dir, {})
    fs = findings(audit("--docker-socket", str(tmp_path / "none.sock"), path=str(bindir),
                        env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}))
    cves = {(f["evidence"].split()[0], f["evidence"].split(": ")[1].split()[0], f["severity"])
            for f in fs if f["id"] == "CM-HOST-013"}
    assert ("runc", "CVE-2024-21626", "critical") in cves, cves
    assert ("runc", "CVE-2025-31133", "high") in cves
    assert ("containerd", "CVE-2020-15257", "high") in cves
    # near misses: fixed before 1.1.11, and a crun newer than every entry
    assert not [c for c in cves if c[1] in ("CVE-2019-5736", "CVE-2021-30465")]
    assert not [c for c in cves if c[0] == "crun"]

    fake_tool(bindir, "runc", 'echo "runc version 1.1.12"')
    fs = findings(audit("--docker-socket", str(tmp_path / "none.sock"), path=str(bindir),
                        env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}))
    assert not [f for f in fs if "CVE-2024-21626" in (f["evidence"] or "")]


def test_hanging_runtime_is_killed(tmp_path, docker_dir):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake_tool(bindir, "runc", "exec /bin/sleep 30")
    daemon_json(docker_dir, {})
    t0 = time.monotonic()
    fs = findings(audit("--docker-socket", str(tmp_path / "none.sock"), path=str(bindir),
                        env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}))
    assert time.monotonic() - t0 < 5
    assert not [f for f in fs if f["id"] == "CM-HOST-013"]


def test_docker_absent(tmp_path):
    empty = tmp_path / "nodocker"
    empty.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    p = audit("--docker-socket", str(tmp_path / "none.sock"), path=str(bindir),
              env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(empty)})
    fs = findings(p)
    absent = [f for f in fs if f["id"] == "CM-HOST-001"]
    if any(open(f"/proc/{pid}/comm").read().strip() == "dockerd"
           for pid in os.listdir("/proc") if pid.isdigit() and os.path.exists(f"/proc/{pid}/comm")):
        pytest.skip("a dockerd runs on this machine")
    assert len(absent) == 1
    # daemon rules need a daemon: none of them fire
    assert not host_ids(fs) & {"CM-HOST-004", "CM-HOST-005", "CM-HOST-024"}


# ---- against a real dockerd, isolated (own data root, exec root, socket,
# cgroup parent; no bridge, no iptables), when docker.io is installed ----

ROOTFS = os.environ.get("ROOTFS", os.path.abspath("build/rootfs"))


def _umount_under(prefix):
    with open("/proc/self/mountinfo") as f:
        points = [l.split()[4] for l in f if l.split()[4].startswith(prefix)]
    for mp in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)


@pytest.fixture
def real_dockerd(tmp_path):
    import shutil
    dockerd, docker = shutil.which("dockerd"), shutil.which("docker")
    if not dockerd or not docker:
        pytest.skip("docker.io is not installed")
    if not os.path.exists(os.path.join(ROOTFS, "bin", "busybox")):
        pytest.skip("no busybox root filesystem: run 'make rootfs'")
    base = tmp_path / "dk"
    base.mkdir()
    sock = str(base / "d.sock")
    parent = f"audit-core-docker-{os.getpid()}"
    (base / "daemon.json").write_text("{}")
    log = open(base / "log", "w")
    proc = subprocess.Popen(
        [dockerd, "--data-root", str(base / "data"), "--exec-root", str(base / "exec"),
         "-H", "unix://" + sock, "--pidfile", str(base / "d.pid"), "--bridge=none",
         "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--storage-driver=vfs",
         "--cgroup-parent=" + parent, "--config-file", str(base / "daemon.json")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    dk = [docker, "-H", "unix://" + sock]
    try:
        deadline = time.time() + 30
        while subprocess.run(dk + ["version"], capture_output=True).returncode != 0:
            if proc.poll() is not None or time.time() > deadline:
                pytest.skip("dockerd does not start here: " +
                            open(base / "log").read()[-300:])
            time.sleep(0.2)
        yield sock, dk
    finally:
        ids = subprocess.run(dk + ["ps", "-aq"], capture_output=True, text=True).stdout.split()
        if ids and proc.poll() is None:
            subprocess.run(dk + ["rm", "-f"] + ids, capture_output=True, timeout=60)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # containerd and shims it started
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()
        _umount_under(str(base))
        for ctl in os.listdir("/sys/fs/cgroup"):
            top = os.path.join("/sys/fs/cgroup", ctl, parent)
            for dirpath, dirnames, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        subprocess.run(["rm", "-rf", str(base)])


def test_real_dockerd(tmp_path, real_dockerd, docker_dir):
    sock, dk = real_dockerd
    tar = subprocess.Popen(["tar", "-C", ROOTFS, "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(dk + ["import", "-", "audit-core-bb:1"], stdin=tar.stdout, check=True,
                   capture_output=True)
    tar.wait()
    bad = ["--name", "evil", "--network", "host", "--pid", "host",
           "--security-opt", "seccomp=unconfined", "-v", "/etc:/host-etc:ro",
           "-v", sock + ":/var/run/docker.sock"]
    good = ["--name", "good", "--user", "1000", "--cap-drop", "ALL", "--read-only",
            "--memory", "64m", "--pids-limit", "50", "--cpu-shares", "512",
            "--security-opt", "no-new-privileges", "--network", "none"]
    for flags in (bad, good):
        subprocess.run(dk + ["run", "-d"] + flags + ["audit-core-bb:1", "/bin/sleep", "600"],
                       check=True, capture_output=True)
    daemon_json(docker_dir, {})
    p = audit("--docker-socket", sock, env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)})
    assert p.returncode == 1
    fs = findings(p)
    evil = {f["id"] for f in fs if (f["subject"] or "").startswith("evil ")}
    good_ids = {f["id"] for f in fs if (f["subject"] or "").startswith("good ")}
    for want in ("CM-CFG-003", "CM-CFG-004", "CM-CFG-006", "CM-CFG-012", "CM-CFG-013",
                 "CM-CFG-016", "CM-CFG-017"):
        assert want in evil, (want, evil)
    assert good_ids == {"CM-CFG-005"}, good_ids
    subj = next(f["subject"] for f in fs if (f["subject"] or "").startswith("evil "))
    assert "audit-core-bb:1" in subj
    assert "CM-HOST-001" not in host_ids(fs)


def test_dockerd_command_line_wins(tmp_path, docker_dir):
    """The running dockerd's own flags override daemon.json (found by its
    comm in /proc): a fake dockerd script that only sleeps."""
    daemon_json(docker_dir, {"icc": True})
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    fake = bindir / "dockerd"
    fake.write_text("#!/bin/sh\n/bin/sleep 30\n")
    os.chmod(fake, 0o755)
    proc = subprocess.Popen([str(fake), "--icc=false", "--live-restore",
                             "--userns-remap=default", "-H", "tcp://0.0.0.0:2375",
                             "--insecure-registry", "10.0.0.1:5000"],
                            start_new_session=True)
    try:
        deadline = time.time() + 5
        while time.time() < deadline:
            with open(f"/proc/{proc.pid}/comm") as f:
                if f.read().strip() == "dockerd":
                    break
            time.sleep(0.02)
        fs = findings(audit("--docker-socket", str(tmp_path / "none.sock"),
                            env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir)}))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    got = host_ids(fs)
    assert not got & {"CM-HOST-004", "CM-HOST-005", "CM-HOST-006"}, got
    assert {"CM-HOST-008", "CM-HOST-022"} <= got, got
    absent = [f for f in fs if f["id"] == "CM-HOST-001"]
    assert absent and "no dockerd process" not in absent[0]["evidence"]


def test_docker_host_env(tmp_path, docker_dir, fake_docker):
    daemon_json(docker_dir, {})
    sock, srv = fake_docker([GOOD])
    fs = findings(audit(env_extra={"CASEMATE_DOCKER_CONFIG_DIR": str(docker_dir),
                                   "DOCKER_HOST": "unix://" + sock}))
    assert [f for f in fs if (f["subject"] or "").startswith("good ")]
    assert "/containers/json" in srv.requests
