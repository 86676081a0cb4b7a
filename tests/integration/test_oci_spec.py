"""`casemate spec` and `casemate features`: the OCI documents an engine or a
user reads before running anything."""
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import run


def _spec(bundle, *flags):
    return run("spec", "--bundle", bundle, *flags, check=0)


def test_spec_writes_hardened_config(tmp_path):
    _spec(tmp_path)
    path = tmp_path / "config.json"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode & 0o022 == 0, f"config.json is writable by others: {oct(mode)}"
    cfg = json.loads(path.read_text())
    assert cfg["ociVersion"].startswith("1.")
    proc = cfg["process"]
    assert proc["noNewPrivileges"] is True
    for capset in ("bounding", "effective", "permitted", "inheritable", "ambient"):
        assert proc["capabilities"].get(capset, []) == [], capset
    assert cfg["root"] == {"path": "rootfs", "readonly": True}
    linux = cfg["linux"]
    ns = {n["type"]: n for n in linux["namespaces"]}
    for kind in ("user", "pid", "network", "mount", "ipc", "uts", "cgroup"):
        assert kind in ns and "path" not in ns[kind], kind
    assert linux["uidMappings"][0]["containerID"] == 0
    assert linux["uidMappings"][0]["hostID"] != 0, "container root must not be host root"
    assert linux["uidMappings"][0]["size"] == 65536
    assert linux["gidMappings"][0]["hostID"] != 0
    assert linux["seccomp"]["defaultAction"] in ("SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS")
    assert linux["seccomp"]["syscalls"], "empty seccomp allowlist"
    assert linux["resources"]["pids"]["limit"] > 0
    assert linux["resources"]["memory"]["limit"] > 0
    assert "/proc/kcore" in linux["maskedPaths"]
    assert "/proc/sys" in linux["readonlyPaths"]
    tmpfs = {m["destination"]: m for m in cfg["mounts"] if m["type"] == "tmpfs"}
    for dest in ("/tmp", "/run"):
        assert any(o.startswith("size=") for o in tmpfs[dest]["options"]), dest
        assert "nosuid" in tmpfs[dest]["options"] and "nodev" in tmpfs[dest]["options"]


PROBE = ("grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
         "cat /proc/self/uid_map; hostname; "
         "touch /probe 2>&1; touch /tmp/probe && echo tmp-writable; "
         "mount -t tmpfs none /mnt 2>&1; stat -c 'keys=%t:%T' /proc/keys; "
         "cat /proc/interrupts | wc -c")


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_spec_output_runs_hardened_under_runc(rootfs):
    """Another OCI runtime takes casemate's default config as it is, and the
    container it runs is as hardened as the config says."""
    # Container root is host uid 100000: the bundle must be reachable by it,
    # which pytest's private tmp_path (0700) is not.
    bundle = tempfile.mkdtemp(prefix="casemate-oci-spec-", dir="/tmp")
    cid = os.path.basename(bundle)
    state = os.path.join(bundle, "runc-state")
    try:
        os.chmod(bundle, 0o711)
        subprocess.run(["cp", "-a", rootfs, os.path.join(bundle, "rootfs")], check=True)
        _spec(bundle)
        cfg_path = os.path.join(bundle, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["process"]["args"] = ["/bin/sh", "-c", PROBE]
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        try:
            p = subprocess.run(["runc", "--root", state, "run", "-b", bundle, cid],
                               capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        finally:
            subprocess.run(["runc", "--root", state, "delete", "--force", cid],
                           capture_output=True, timeout=60)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
    assert p.returncode == 0, f"runc failed:\n{p.stdout}\n{p.stderr}"
    out = p.stdout
    assert "CapEff:\t0000000000000000" in out, out
    assert "CapBnd:\t0000000000000000" in out, out
    assert "NoNewPrivs:\t1" in out, out
    assert "Seccomp:\t2" in out, out
    assert "0     100000      65536" in out, out
    assert "\ncasemate\n" in out, "hostname from the config"
    assert "Read-only file system" in out, "root must be read-only"
    assert "tmp-writable" in out, "/tmp must be a writable tmpfs"
    assert "keys=1:3" in out, "/proc/keys must be masked with /dev/null"
    assert out.rstrip().endswith("\n0"), "/proc/interrupts must read empty"
    assert "mount: " in out and ("denied" in out or "not permitted" in out), out


def test_spec_refuses_to_overwrite(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{\"mine\": true}\n")
    p = run("spec", "--bundle", tmp_path, check=125)
    assert "already exists" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert path.read_text() == "{\"mine\": true}\n", "config.json was modified"


def test_spec_does_not_follow_a_planted_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "config.json").symlink_to(target)
    run("spec", "--bundle", tmp_path, check=125)
    assert not target.exists()


def test_spec_default_bundle_is_cwd(tmp_path):
    run("spec", check=0, cwd=tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["root"]["readonly"] is True


def test_spec_rootless_maps_own_ids(tmp_path):
    _spec(tmp_path, "--rootless")
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["linux"]["uidMappings"] == [
        {"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert cfg["linux"]["gidMappings"] == [
        {"containerID": 0, "hostID": os.getegid(), "size": 1}]
    assert cfg["process"]["noNewPrivileges"] is True
    pts = next(m for m in cfg["mounts"] if m["destination"] == "/dev/pts")
    assert not any(o.startswith("gid=") for o in pts["options"])


def test_spec_bad_usage(tmp_path):
    p = run("spec", "--bundle", tmp_path / "missing", check=125)
    assert "missing" in p.stderr
    p = run("spec", "extra-arg", check=125, cwd=tmp_path)
    assert "unexpected argument" in p.stderr
    assert not (tmp_path / "config.json").exists()
    p = run("spec", "--no-such-flag", check=125, cwd=tmp_path)
    assert "unknown option" in p.stderr


def test_spec_help():
    p = run("spec", "--help", check=0)
    assert "--bundle" in p.stdout and "--rootless" in p.stdout


def test_features_is_valid_json():
    p = run("features", check=0)
    f = json.loads(p.stdout)
    assert f["ociVersionMin"] == "1.0.0"
    assert f["ociVersionMax"].startswith("1.2")
    assert set(f["hooks"]) == {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    for opt in ("ro", "nosuid", "nodev", "noexec", "rbind", "rprivate", "idmap"):
        assert opt in f["mountOptions"], opt
    linux = f["linux"]
    assert "user" in linux["namespaces"]
    assert "CAP_SYS_ADMIN" in linux["capabilities"]
    assert linux["cgroup"]["systemd"] is False
    assert linux["seccomp"]["enabled"] is True
    assert "SCMP_ACT_NOTIFY" in linux["seccomp"]["actions"]
    assert "SCMP_CMP_MASKED_EQ" in linux["seccomp"]["operators"]
    assert "SCMP_ARCH_X86_64" in linux["seccomp"]["archs"] or os.uname().machine != "x86_64"
    assert linux["intelRdt"]["enabled"] is False
    assert linux["mountExtensions"]["idmap"]["enabled"] is True


def test_features_reports_host_lsms():
    f = json.loads(run("features", check=0).stdout)
    try:
        with open("/sys/module/apparmor/parameters/enabled") as fh:
            apparmor = fh.read(1) == "Y"
    except OSError:
        apparmor = False
    selinux = os.path.exists("/sys/fs/selinux/enforce")
    assert f["linux"]["apparmor"]["enabled"] is apparmor
    assert f["linux"]["selinux"]["enabled"] is selinux


def test_features_help_and_bad_args():
    assert "features" in run("features", "--help", check=0).stdout
    p = run("features", "extra", check=125)
    assert "unexpected argument" in p.stderr
