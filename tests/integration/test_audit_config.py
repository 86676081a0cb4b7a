"""`casemate audit config` on OCI config.json files and `docker inspect`
documents written by the tests: findings, exit codes, and the JSON and SARIF
formats (checked with Python's json module)."""
import copy
import json
import os

import pytest

from conftest import run

HARDENED_OCI = {
    "ociVersion": "1.2.0",
    "process": {
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh"],
        "env": ["PATH=/usr/bin:/bin"],
        "cwd": "/",
        "capabilities": {"bounding": [], "effective": [], "permitted": [],
                         "inheritable": [], "ambient": []},
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "c",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "nodev", "noexec"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]},
    ],
    "linux": {
        "namespaces": [{"type": t} for t in
                       ("pid", "network", "mount", "ipc", "uts", "user", "cgroup")],
        "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "resources": {"memory": {"limit": 536870912}, "pids": {"limit": 128},
                      "cpu": {"shares": 512}},
        "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ERRNO"}]},
        "rootfsPropagation": "private",
        "maskedPaths": ["/proc/kcore"],
        "readonlyPaths": ["/proc/sys"],
    },
}

BAD_INSPECT = {
    "Id": "a" * 64, "Name": "/evil", "Image": "sha256:" + "b" * 64,
    "Config": {"User": "", "Image": "evil:latest", "Env": ["DB_PASSWORD=hunter2"]},
    "HostConfig": {
        "Privileged": True, "NetworkMode": "host", "PidMode": "host",
        "Binds": ["/var/run/docker.sock:/var/run/docker.sock", "/etc:/host/etc:ro"],
        "SecurityOpt": ["seccomp=unconfined"],
        "Memory": 0, "PidsLimit": 0,
    },
}

GOOD_INSPECT = {
    "Id": "c" * 64, "Name": "/good", "Image": "sha256:" + "d" * 64,
    "Config": {"User": "1000:1000", "Image": "app:1.2"},
    "HostConfig": {
        "CapDrop": ["ALL"], "ReadonlyRootfs": True, "Memory": 268435456, "PidsLimit": 64,
        "NanoCpus": 500000000, "NetworkMode": "bridge",
        "SecurityOpt": ["no-new-privileges"],
        "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
    },
}


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


def ids(stdout):
    return {f["id"] for f in json.loads(stdout)["findings"]}


def test_hardened_oci_config_is_clean(tmp_path):
    path = write(tmp_path, "config.json", HARDENED_OCI)
    p = run("audit", "config", "--format", "json", path, check=0)
    doc = json.loads(p.stdout)
    assert doc["findings"] == [], doc["findings"]
    assert doc["summary"]["total"] == 0


def test_weak_oci_config(tmp_path):
    cfg = copy.deepcopy(HARDENED_OCI)
    cfg["process"]["user"] = {"uid": 0, "gid": 0}
    cfg["process"]["capabilities"]["bounding"] = ["CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE"]
    cfg["process"]["noNewPrivileges"] = False
    cfg["linux"]["namespaces"] = [{"type": t} for t in ("pid", "mount", "ipc", "uts")]
    del cfg["linux"]["uidMappings"], cfg["linux"]["gidMappings"]
    del cfg["linux"]["seccomp"]
    cfg["mounts"].append({"destination": "/var/run/docker.sock", "type": "bind",
                          "source": "/var/run/docker.sock", "options": ["rbind"]})
    path = write(tmp_path, "config.json", cfg)
    p = run("audit", "config", path, "--format", "json")
    assert p.returncode == 1, p.stderr
    got = ids(p.stdout)
    for want in ("CM-CFG-002", "CM-CFG-003", "CM-CFG-004", "CM-CFG-005", "CM-CFG-006",
                 "CM-CFG-007", "CM-CFG-012", "CM-CFG-016"):
        assert want in got, (want, got)
    # near misses in the same file: its own pid/ipc/uts namespaces, read-only root
    assert not got & {"CM-CFG-013", "CM-CFG-014", "CM-CFG-015", "CM-CFG-008"}
    for f in json.loads(p.stdout)["findings"]:
        assert f["location"]["path"] == path


def test_docker_inspect_array(tmp_path):
    path = write(tmp_path, "inspect.json", [BAD_INSPECT, GOOD_INSPECT])
    p = run("audit", "config", "--format", "json", path)
    assert p.returncode == 1, p.stderr
    findings = json.loads(p.stdout)["findings"]
    evil = {f["id"] for f in findings if f["subject"].startswith("evil ")}
    good = {f["id"] for f in findings if f["subject"].startswith("good ")}
    for want in ("CM-CFG-001", "CM-CFG-004", "CM-CFG-006", "CM-CFG-009", "CM-CFG-010",
                 "CM-CFG-012", "CM-CFG-013", "CM-CFG-016", "CM-CFG-017"):
        assert want in evil, (want, evil)
    assert good == {"CM-CFG-005"}, good  # Docker has no user namespace by default
    subj = next(f["subject"] for f in findings if f["subject"].startswith("evil "))
    assert "evil:latest" in subj and "bbbbbbbbbbbb" in subj  # linked to its image
    assert "hunter2" not in p.stdout


def test_docker_inspect_single_object_and_fail_on(tmp_path):
    path = write(tmp_path, "one.json", GOOD_INSPECT)
    run("audit", "config", path, check=0)  # only medium: below the default "high"
    run("audit", "config", "--fail-on", "medium", path, check=1)
    run("audit", "config", "--fail-on", "critical", path, check=0)


def test_sarif(tmp_path):
    path = write(tmp_path, "inspect.json", [BAD_INSPECT])
    p = run("audit", "config", "--format", "sarif", path, check=1)
    doc = json.loads(p.stdout)
    assert doc["version"] == "2.1.0"
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    rule_ids = [r["id"] for r in rules]
    assert len(rule_ids) == len(set(rule_ids))
    assert {r["ruleId"] for r in run_["results"]} == set(rule_ids)
    for res in run_["results"]:
        assert res["level"] in ("error", "warning", "note")
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] \
            == "file://" + path
    priv = [r for r in run_["results"] if r["ruleId"] == "CM-CFG-001"]
    assert priv and priv[0]["level"] == "error"


def test_text_has_no_colour_when_piped(tmp_path):
    path = write(tmp_path, "inspect.json", [BAD_INSPECT])
    p = run("audit", "config", path, check=1)
    assert "\033[" not in p.stdout
    assert p.stdout.index("CRITICAL") < p.stdout.index("HIGH") < p.stdout.index("MEDIUM")
    assert "fix" in p.stdout


@pytest.mark.parametrize("content,needle", [
    ('{"ociVersion": "1.2.0",\n  "process": {,}}', "line 2"),
    ("[1, 2", "line 1"),
    ('{"hello": "world"}', "neither an OCI config.json"),
    ('{"HostConfig": {"CapAdd": ["CAP_NOPE"]}}', "CAP_NOPE"),
])
def test_bad_input_is_125(tmp_path, content, needle):
    path = write(tmp_path, "bad.json", content)
    p = run("audit", "config", path, check=125)
    assert needle in p.stderr, p.stderr
    assert path in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert p.stdout == ""


def test_usage_errors(tmp_path):
    assert "no such" in run("audit", "config", str(tmp_path / "missing.json"),
                            check=125).stderr.lower()
    run("audit", "config", check=125)
    run("audit", "config", "--format", "xml", "x", check=125)
    run("audit", "config", "--fail-on", "severe", "x", check=125)
    run("audit", "bogus", check=125)
    assert "Usage" in run("audit", "config", "--help", check=0).stdout
    assert "Usage" in run("audit", "--help", check=0).stdout


def test_container_option(tmp_path):
    p = run("--root", str(tmp_path), "audit", "config", "--container", "nope", check=125)
    assert "nope" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    path = write(tmp_path, "one.json", GOOD_INSPECT)
    run("audit", "config", "--container", "nope", path, check=125)  # one or the other


def test_stdin(tmp_path):
    p = run("audit", "config", "--format", "json", "-", input=json.dumps(GOOD_INSPECT), check=0)
    assert ids(p.stdout) == {"CM-CFG-005"}


def test_rules_listing():
    p = run("audit", "rules", "--format", "json", check=0)
    rules = json.loads(p.stdout)["rules"]
    by_kind = {}
    for r in rules:
        by_kind.setdefault(r["kind"], set()).add(r["topic"])
        assert r["severity"] in ("critical", "high", "medium", "low", "info")
        assert isinstance(r["references"], list)
    # every topic of the contract has a rule
    contract = {
        "config": "privileged capabilities-added root-user no-userns seccomp-unconfined "
                  "no-new-privileges-off writable-rootfs no-memory-limit no-pids-limit "
                  "no-cpu-limit host-network host-pid host-ipc host-uts docker-socket-mount "
                  "sensitive-host-mount port-all-interfaces device-access shared-propagation "
                  "lsm-unconfined",
        "host": "docker-partition docker-group icc-enabled userns-remap-off live-restore-off "
                "no-new-privileges-default-off tcp-without-tls socket-permissions "
                "file-permissions runtime-vulnerable kernel-hardening audit-rules "
                "insecure-registry userland-proxy content-trust-off",
    }
    for kind, topics in contract.items():
        missing = set(topics.split()) - by_kind.get(kind, set())
        assert not missing, (kind, missing)
    md = run("audit", "rules", check=0).stdout
    assert "| `CM-CFG-001` | `privileged` | critical |" in md
    docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "audit.md")
    with open(docs) as f:
        assert f.read() == md, "docs/audit.md is stale: regenerate it with 'casemate audit rules'"


def test_audit_a_running_casemate_container(tmp_path):
    """--container NAME audits a container started by `casemate run -d`,
    from its own flags; the same rules the policy enforces."""
    import json as _json
    import subprocess as _sp
    cm = os.environ.get("CASEMATE", os.path.abspath("build/casemate"))
    rootfs = os.environ.get("ROOTFS", os.path.abspath("build/rootfs"))
    root = str(tmp_path / "state")
    name = "audited-" + os.urandom(4).hex()
    _sp.run([cm, "--root", root, "run", "-d", "--name", name, "--cap-add", "SYS_ADMIN",
             rootfs, "sleep", "30"], check=True, capture_output=True)
    try:
        p = _sp.run([cm, "--root", root, "audit", "config", "--container", name, "--format", "json"],
                    capture_output=True, text=True)
        assert p.returncode == 1, p.stderr
        ids = {f["id"] for f in _json.loads(p.stdout)["findings"]}
        assert "CM-CFG-002" in ids          # SYS_ADMIN
        assert "CM-CFG-005" not in ids      # it has its own user namespace
    finally:
        _sp.run([cm, "--root", root, "delete", "--force", name], capture_output=True)
