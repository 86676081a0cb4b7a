"""casemate audit image: root filesystem directories, plain tars, docker save
archives and OCI layouts built by the tests, each with planted problems and
near misses. The CLI contract: exit 0 when nothing is at or above --fail-on
(default high), 1 when something is, 125 when the audit cannot run."""
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile

import pytest

CASEMATE = os.environ.get("CASEMATE", "build/casemate")

PEM_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
           "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
           "-----END OPENSSH PRIVATE KEY-----\n")
AWS_KEY = "AKIA" + "Z7QXJ4MPLE2ABCDE"  # split so that this file is not itself a finding


def audit(target, *extra):
    p = subprocess.run([CASEMATE, "audit", "image", str(target), "--format", "json", *extra],
                       capture_output=True, text=True, timeout=120)
    doc = None
    if p.returncode in (0, 1):
        doc = json.loads(p.stdout)
    return p, doc


def ids(doc):
    return {f["id"] for f in doc["findings"]}


def find(doc, rule_id, path=None):
    return [f for f in doc["findings"] if f["id"] == rule_id
            and (path is None or f["location"]["path"] == path)]


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="audit_image_")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write(root, rel, data, mode=0o644):
    p = os.path.join(root, rel.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
    os.chmod(p, mode)
    return p


def make_bad_rootfs(root):
    """A root filesystem with one of each problem, and near misses."""
    write(root, "etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
          "toor:x:0:0:backdoor:/root:/bin/sh\n"
          "app:x:1000:1000::/home/app:/bin/sh\n"
          "dup:x:1000:1001::/home/dup:/bin/sh\n"
          "nopw::1002:1002::/home/nopw:/bin/sh\n")
    write(root, "etc/shadow",
          "root:*:19000:0:99999:7:::\n"
          "app:!:19000:0:99999:7:::\n"
          "empty::19000:0:99999:7:::\n", 0o640)
    write(root, "etc/group", "root:x:0:\napp:x:1000:\nother:x:1000:\n")
    write(root, "usr/bin/su", b"\x7fELF", 0o4755)             # expected setuid
    write(root, "usr/local/bin/backdoor", b"\x7fELF", 0o4755)  # unexpected setuid
    write(root, "usr/bin/plain", b"\x7fELF", 0o755)            # near miss
    write(root, "usr/bin/sh", b"\x7fELF", 0o755)
    write(root, "usr/bin/apt-get", b"\x7fELF", 0o755)
    write(root, "usr/sbin/sshd", b"\x7fELF", 0o755)
    os.makedirs(os.path.join(root, "shared"))
    os.chmod(os.path.join(root, "shared"), 0o777)              # world-writable, no sticky
    os.makedirs(os.path.join(root, "tmp"))
    os.chmod(os.path.join(root, "tmp"), 0o1777)                # near miss: sticky
    write(root, "app/data.txt", "hello\n", 0o666)              # world-writable file
    write(root, "root/.ssh/id_rsa", PEM_KEY, 0o600)            # by name and content
    write(root, "app/settings.py", "AWS_KEY = '%s'\n" % AWS_KEY)  # content only
    write(root, "app/readme.txt", "nothing to see here\n")     # near miss
    write(root, "app/tests/data/key.pem", PEM_KEY)               # test data: low only
    write(root, "app/node_modules/pkg/fixture.txt", PEM_KEY)     # dependency tree: not read
    os.makedirs(os.path.join(root, "app/node_modules/pkg/.git"))  # nor listed as unneeded
    write(root, "etc/ssl/certs/ca.pem",
          "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")  # near miss
    write(root, "app/.env", "DB_PASSWORD=hunter2\n")
    write(root, "home/app/.npmrc", "//registry.npmjs.org/:_authToken=abcdef\n")
    write(root, "home/app/.npmrc.bak", "registry=https://registry.npmjs.org/\n")  # near miss
    os.makedirs(os.path.join(root, "app/.git"))
    write(root, "app/Dockerfile", "FROM scratch\n")


def test_rootfs_directory(tmp):
    root = os.path.join(tmp, "rootfs")
    make_bad_rootfs(root)
    p, doc = audit(root)
    assert p.returncode == 1, p.stderr
    got = ids(doc)
    for rid in ("CM-IMG-001", "CM-IMG-002", "CM-IMG-003", "CM-IMG-004", "CM-IMG-005",
                "CM-IMG-006", "CM-IMG-007", "CM-IMG-008", "CM-IMG-009", "CM-IMG-010",
                "CM-IMG-011", "CM-IMG-012", "CM-IMG-017"):
        assert rid in got, rid
    assert find(doc, "CM-IMG-001", "/usr/bin/su")
    assert find(doc, "CM-IMG-002", "/usr/local/bin/backdoor")
    assert not find(doc, "CM-IMG-002", "/usr/bin/plain")
    assert find(doc, "CM-IMG-004", "/shared")
    assert not find(doc, "CM-IMG-004", "/tmp")
    assert find(doc, "CM-IMG-003", "/app/data.txt")
    assert find(doc, "CM-IMG-006", "/root/.ssh/id_rsa")
    assert find(doc, "CM-IMG-006", "/app/settings.py")
    assert not [f for f in doc["findings"] if f["location"]["path"] in
                ("/app/readme.txt", "/etc/ssl/certs/ca.pem", "/home/app/.npmrc.bak")]
    assert find(doc, "CM-IMG-019", "/app/tests/data/key.pem")
    assert not [f for f in doc["findings"] if "node_modules" in f["location"]["path"]]
    assert not find(doc, "CM-IMG-006", "/app/tests/data/key.pem")
    assert find(doc, "CM-IMG-005", "/app/.env")
    assert find(doc, "CM-IMG-005", "/home/app/.npmrc")
    empties = find(doc, "CM-IMG-007")
    assert {f["location"]["path"] for f in empties} == {"/etc/passwd", "/etc/shadow"}
    assert [f for f in empties if f["location"]["path"] == "/etc/shadow"][0]["location"]["line"] == 3
    uid0 = find(doc, "CM-IMG-009")
    assert len(uid0) == 1 and "toor" in uid0[0]["evidence"]
    dups = find(doc, "CM-IMG-008")
    assert {f["location"]["path"] for f in dups} == {"/etc/passwd", "/etc/group"}
    unneeded = {f["location"]["path"] for f in find(doc, "CM-IMG-012")}
    assert {"/app/.git", "/app/Dockerfile"} <= unneeded
    # secret values never appear in the output
    assert "hunter2" not in p.stdout and AWS_KEY not in p.stdout and "abcdef" not in p.stdout


def test_clean_rootfs_has_nothing_high(tmp):
    root = os.path.join(tmp, "clean")
    write(root, "app", b"\x7fELF", 0o755)
    write(root, "etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000::/:/sbin/nologin\n")
    write(root, "etc/shadow", "root:*:19000::::::\napp:!:19000::::::\n", 0o640)
    p, doc = audit(root)
    assert p.returncode == 0, p.stdout + p.stderr
    assert doc["findings"] == []


def test_symlinks_are_never_followed(tmp):
    """/etc/passwd -> /etc/shadow of the host, and a directory link to /."""
    root = os.path.join(tmp, "rootfs")
    os.makedirs(os.path.join(root, "etc"))
    os.symlink("/etc/shadow", os.path.join(root, "etc/passwd"))
    # files outside the image that would be findings if they were read
    outside = write(tmp, "outside/shadow", "evil::19000::::::\n")
    write(tmp, "outside/dir/id_rsa", PEM_KEY)
    os.symlink(outside, os.path.join(root, "etc/shadow"))
    os.symlink(os.path.join(tmp, "outside/dir"), os.path.join(root, "data"))
    os.symlink("/", os.path.join(root, "hostroot"))
    p, doc = audit(root)
    assert p.returncode in (0, 1), p.stderr
    paths = {f["location"]["path"] for f in doc["findings"]}
    assert not any(x.startswith("/hostroot/") or x.startswith("/data/") for x in paths)
    links = {f["location"]["path"] for f in find(doc, "CM-IMG-018")}
    assert links == {"/etc/passwd", "/etc/shadow"}  # reported, not read
    assert not find(doc, "CM-IMG-007") and not find(doc, "CM-IMG-006")
    # and the same root given as a plain tar: links stay links
    arc = os.path.join(tmp, "links.tar")
    with tarfile.open(arc, "w") as tf:
        tf.add(root, arcname=".")
    p2, doc2 = audit(arc)
    assert p2.returncode in (0, 1), p2.stderr
    assert {f["location"]["path"] for f in find(doc2, "CM-IMG-018")} == links
    assert not find(doc2, "CM-IMG-007") and not find(doc2, "CM-IMG-006")


def tar_add(tf, name, data=b"", mode=0o644, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.linkname = link
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)


def layer_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            tar_add(tf, *e)
    return buf.getvalue()


def config_bytes(user="", env=(), ports=None, healthcheck=False):
    cfg = {"User": user, "Env": list(env)}
    if ports:
        cfg["ExposedPorts"] = {p: {} for p in ports}
    if healthcheck:
        cfg["Healthcheck"] = {"Test": ["CMD", "/app", "health"]}
    return json.dumps({"architecture": "amd64", "os": "linux", "config": cfg,
                       "rootfs": {"type": "layers", "diff_ids": []}}).encode()


LAYER1 = [("etc/", b"", 0o755, tarfile.DIRTYPE),
          ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
          ("etc/shadow", b"root::19000::::::\n", 0o640),
          ("bin/", b"", 0o755, tarfile.DIRTYPE),
          ("bin/sh", b"\x7fELF", 0o755),
          ("bin/helper", b"\x7fELF", 0o4755),
          ("secret/", b"", 0o755, tarfile.DIRTYPE),
          ("secret/id_rsa", PEM_KEY.encode(), 0o600),
          ("old/", b"", 0o755, tarfile.DIRTYPE),
          ("old/token.txt", ("ghp_" + "a" * 36 + "\n").encode())]
# layer 2 deletes the key and the old dir with whiteouts, adds a setuid hard link
LAYER2 = [("secret/.wh.id_rsa", b""),
          (".wh.old", b""),
          ("bin/hl", b"", 0o4755, tarfile.LNKTYPE, "bin/helper")]


def docker_save(path, layers, config, gz=False):
    with tarfile.open(path, "w") as tf:
        names = []
        for i, data in enumerate(layers):
            if gz:
                data = gzip.compress(data)
            name = "layer%d/layer.tar" % i
            names.append(name)
            tar_add(tf, name, data)
        tar_add(tf, "cfg.json", config)
        tar_add(tf, "manifest.json", json.dumps(
            [{"Config": "cfg.json", "RepoTags": ["t:1"], "Layers": names}]).encode())


def test_docker_save_archive_whiteouts_and_config(tmp):
    arc = os.path.join(tmp, "img.tar")
    docker_save(arc, [layer_bytes(LAYER1), layer_bytes(LAYER2)],
                config_bytes(env=["PATH=/bin", "API_TOKEN=s3cr3tvalue"], ports=["22/tcp", "80/tcp"]))
    p, doc = audit(arc)
    assert p.returncode == 1, p.stderr
    got = ids(doc)
    assert find(doc, "CM-IMG-002", "/bin/helper")
    assert find(doc, "CM-IMG-002", "/bin/hl")          # hard link keeps its own mode
    assert find(doc, "CM-IMG-007", "/etc/shadow")
    assert "CM-IMG-010" in got
    # whited-out files are gone from the merged image
    assert not find(doc, "CM-IMG-006", "/secret/id_rsa")
    assert not [f for f in doc["findings"] if f["location"]["path"].startswith("/old")]
    # image config
    assert {"CM-IMG-013", "CM-IMG-014", "CM-IMG-015", "CM-IMG-016"} <= got
    assert "s3cr3tvalue" not in p.stdout


def test_docker_save_gzip_layers_and_healthy_config(tmp):
    arc = os.path.join(tmp, "img.tar")
    docker_save(arc, [layer_bytes(LAYER1)],
                config_bytes(user="1000", env=["PATH=/bin"], ports=["8080/tcp"],
                             healthcheck=True), gz=True)
    p, doc = audit(arc)
    assert p.returncode == 1, p.stderr
    got = ids(doc)
    assert find(doc, "CM-IMG-006", "/secret/id_rsa")   # layer read through gzip
    assert not {"CM-IMG-013", "CM-IMG-014", "CM-IMG-015", "CM-IMG-016"} & got


def oci_layout(root, layers, config):
    blobs = os.path.join(root, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    cd, cl = put(config)
    ls = []
    for data in layers:
        d, l = put(gzip.compress(data))
        ls.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": l})
    man = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": cd, "size": cl}, "layers": ls}).encode()
    md, ml = put(man)
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ml}]}, f)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')


def test_oci_layout_dir_and_tar(tmp):
    lay = os.path.join(tmp, "oci")
    oci_layout(lay, [layer_bytes(LAYER1), layer_bytes(LAYER2)], config_bytes(user="root"))
    p, doc = audit(lay)
    assert p.returncode == 1, p.stderr
    assert find(doc, "CM-IMG-002", "/bin/helper") and find(doc, "CM-IMG-013")
    assert not find(doc, "CM-IMG-006", "/secret/id_rsa")
    arc = os.path.join(tmp, "oci.tar")
    with tarfile.open(arc, "w") as tf:
        tf.add(lay, arcname=".")
    p2, doc2 = audit(arc)
    assert p2.returncode == 1, p2.stderr
    assert ids(doc2) == ids(doc)


def test_plain_rootfs_tar(tmp):
    arc = os.path.join(tmp, "rootfs.tar")
    with open(arc, "wb") as f:
        f.write(layer_bytes(LAYER1))
    p, doc = audit(arc)
    assert p.returncode == 1, p.stderr
    assert find(doc, "CM-IMG-006", "/secret/id_rsa")
    assert find(doc, "CM-IMG-006", "/old/token.txt")


def test_tar_with_dotdot_and_absolute_names_is_not_extracted(tmp):
    arc = os.path.join(tmp, "evil.tar")
    canary = os.path.join(tmp, "canary")
    with tarfile.open(arc, "w") as tf:
        tar_add(tf, "../../" + canary.lstrip("/"), b"x")
        tar_add(tf, canary, b"y", 0o4755)
    p, doc = audit(arc)
    assert p.returncode in (0, 1), p.stderr
    assert not os.path.exists(canary)
    # the absolute name is read as a path inside the image, ".." is dropped
    assert find(doc, "CM-IMG-002", canary)


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100])
def test_bad_archives_exit_125(tmp, content):
    arc = os.path.join(tmp, "bad.tar")
    with open(arc, "wb") as f:
        f.write(content)
    p, _ = audit(arc)
    assert p.returncode == 125
    assert p.stderr.strip().startswith("casemate:") and len(p.stderr.strip().splitlines()) == 1
    assert "bad.tar" in p.stderr


def test_missing_target_exit_125(tmp):
    p, _ = audit(os.path.join(tmp, "nope"))
    assert p.returncode == 125 and "nope" in p.stderr


def test_truncated_docker_save_exit_125(tmp):
    arc = os.path.join(tmp, "img.tar")
    docker_save(arc, [layer_bytes(LAYER1)], config_bytes())
    data = open(arc, "rb").read()
    with open(arc, "wb") as f:
        f.write(data[:len(data) // 2])
    p, _ = audit(arc)
    assert p.returncode == 125, p.stdout


def test_gnu_long_names_and_base256(tmp):
    """GNU long names (>100 bytes) and pax headers both resolve to the real path."""
    long_dir = "opt/" + "/".join(["d%02d" % i for i in range(40)])
    arc = os.path.join(tmp, "gnu.tar")
    with tarfile.open(arc, "w", format=tarfile.GNU_FORMAT) as tf:
        tar_add(tf, long_dir + "/suid-tool", b"\x7fELF", 0o4755)
        ti = tarfile.TarInfo("big-uid")
        ti.uid = 3000000000  # needs base-256 in a GNU header
        ti.size = 1
        ti.mode = 0o666
        tf.addfile(ti, io.BytesIO(b"x"))
    p, doc = audit(arc)
    assert p.returncode == 1, p.stderr
    assert find(doc, "CM-IMG-002", "/" + long_dir + "/suid-tool")
    assert find(doc, "CM-IMG-003", "/big-uid")


def test_oci_blob_symlink_is_refused(tmp):
    """A layout whose blob is a symlink to a host file must not be read."""
    lay = os.path.join(tmp, "oci")
    oci_layout(lay, [layer_bytes(LAYER1)], config_bytes())
    blobs = os.path.join(lay, "blobs", "sha256")
    cfg = json.loads(open(os.path.join(lay, "index.json")).read())
    man_digest = cfg["manifests"][0]["digest"].split(":")[1]
    man = json.loads(open(os.path.join(blobs, man_digest)).read())
    victim = os.path.join(blobs, man["layers"][0]["digest"].split(":")[1])
    os.unlink(victim)
    os.symlink("/etc/shadow", victim)
    p, _ = audit(lay)
    assert p.returncode == 125
    assert "shadow" not in p.stdout


def test_config_history_runs_dockerfile_rules(tmp):
    """CIS 4.7 (update alone) and curl | sh, read back from the build history."""
    cfg = json.loads(config_bytes(user="app", healthcheck=True))
    cfg["history"] = [
        {"created_by": "/bin/sh -c #(nop) ADD file:0123abcd in / "},           # base: ignored
        {"created_by": "/bin/sh -c apt-get update"},                           # classic builder
        {"created_by": "RUN /bin/sh -c curl -fsSL https://x.example | sh # buildkit"},
        {"created_by": "USER app", "empty_layer": True},
        {"created_by": "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends x # buildkit"},
    ]
    arc = os.path.join(tmp, "img.tar")
    docker_save(arc, [layer_bytes([("app", b"\x7fELF", 0o755)])], json.dumps(cfg).encode())
    p, doc = audit(arc)
    assert p.returncode == 1, p.stderr
    where = lambda rid: [(f["location"]["path"], f["location"]["line"]) for f in find(doc, rid)]
    assert where("CM-DF-014") == [("cfg.json history", 2)]
    assert where("CM-DF-017") == [("cfg.json history", 3)]
    assert not find(doc, "CM-DF-009") and not find(doc, "CM-DF-005")
