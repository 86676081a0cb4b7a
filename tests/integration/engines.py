"""Helpers for tests/integration/test_engines.py: start dockerd, podman and
containerd on private data roots, sockets and cgroup parents, and remove
everything they leave behind (processes by pid, mounts under the roots,
cgroups, /run and /var/lib entries, the dockremap user) even on failure.

Temporary paths start with "cm-eng-" (not "casemate"): conftest's leak check
looks for mounts naming casemate, and the engines' own long-lived mounts are
this module's business, not one test's."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

CG_ROOT = "/sys/fs/cgroup"


def sh(cmd, timeout=60, check=True, env=None, input=None):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}\nstdout:\n{p.stdout}\n"
                             f"stderr:\n{p.stderr}")
    return p


def start_daemon(cmd, log, env=None):
    """Start cmd in the background, reparented away from pytest; pid."""
    out = subprocess.run(
        ["sh", "-c", 'log=$1; shift; "$@" </dev/null >"$log" 2>&1 & echo $!', "sh", log] + cmd,
        capture_output=True, text=True, env=env, check=True, timeout=30)
    return int(out.stdout.strip())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid, timeout=10):
    """SIGTERM, then SIGKILL after timeout; by pid only."""
    if not pid or not alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 5
        while alive(pid) and time.time() < deadline:
            time.sleep(0.05)


def pids_under(root):
    """Processes whose executable, cwd or command line lies under root (the
    shims and container processes an engine left behind)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if root in cmd:
            found.append(int(d))
    return found


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def mounts_under(root):
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == root or mp.startswith(root.rstrip("/") + "/"):
                out.append(mp)
    return out


def unmount_under(root):
    """Lazily unmount everything below root, deepest first, until none."""
    for _ in range(20):
        mps = mounts_under(root)
        if not mps:
            return
        for mp in sorted(set(mps), key=len, reverse=True):
            subprocess.run(["umount", "-l", mp], capture_output=True)


def cgroup_dirs(name):
    """Every cgroup directory named /name (top level) in every hierarchy."""
    out = []
    for h in sorted(os.listdir(CG_ROOT)):
        d = os.path.join(CG_ROOT, h, name.strip("/"))
        if os.path.isdir(d):
            out.append(d)
    return out


def remove_cgroup_tree(path):
    """rmdir a cgroup directory bottom-up, killing what is left inside."""
    for _ in range(50):
        if not os.path.isdir(path):
            return
        for dirpath, dirnames, _ in os.walk(path, topdown=False):
            try:
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            except OSError:
                pass
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
        time.sleep(0.05)


def remove_cgroups(name):
    for d in cgroup_dirs(name):
        remove_cgroup_tree(d)


# Host paths the engines create whatever their data roots say: containerd
# 1.6 keeps shim sockets in /run/containerd/s and ctr its FIFOs in
# /run/containerd/fifo; podman writes /var/lib/containers/cache and
# /run/containers. Removed afterwards when they were not there before.
CONTAINERD_HOST_PATHS = ("/run/containerd",)


def remove_if_new(cleanup, paths):
    for p in paths:
        if not os.path.exists(p):
            cleanup.add(shutil.rmtree, p, True)


def new_tmp(kind):
    return tempfile.mkdtemp(prefix=f"cm-eng-{kind}-", dir="/tmp")


class Cleanup:
    """Things to undo, in reverse order, each attempted whatever happens."""

    def __init__(self):
        self.steps = []

    def add(self, fn, *args):
        self.steps.append((fn, args))

    def run(self):
        errors = []
        while self.steps:
            fn, args = self.steps.pop()
            try:
                fn(*args)
            except Exception as e:  # keep going: everything must be tried
                errors.append(f"{fn.__name__}{args}: {e}")
        return errors


# ---------------------------------------------------------------- docker

class Docker:
    def __init__(self, casemate, runtime_path, name="docker", extra=(), daemon_json=None,
                 bridge="none"):
        self.root = new_tmp(name)
        # --userns-remap: the remapped root must be able to walk to its data
        os.chmod(self.root, 0o711)
        self.cg = "/" + os.path.basename(self.root)
        self.sock = os.path.join(self.root, "docker.sock")
        self.log = os.path.join(self.root, "dockerd.log")
        self.cleanup = Cleanup()
        self.cleanup.add(shutil.rmtree, self.root, True)
        self.cleanup.add(remove_cgroups, self.cg)
        remove_if_new(self.cleanup, CONTAINERD_HOST_PATHS)
        self.cleanup.add(unmount_under, self.root)
        self.cleanup.add(self._kill_leftovers)
        self.pid = None
        conf = os.path.join(self.root, "daemon.json")
        with open(conf, "w") as f:
            json.dump(daemon_json or {}, f)
        cmd = ["dockerd", "--config-file", conf,
               "--data-root", os.path.join(self.root, "data"),
               "--exec-root", os.path.join(self.root, "exec"),
               "-H", "unix://" + self.sock, "--pidfile", os.path.join(self.root, "pid"),
               f"--bridge={bridge}", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
               "--cgroup-parent", self.cg] + list(extra)
        if not daemon_json:
            cmd += ["--add-runtime", f"casemate={runtime_path}"]
        try:
            self.pid = start_daemon(cmd, self.log)
            self.cleanup.add(stop_pid, self.pid, 20)
            wait_for(lambda: self.docker("version", check=False).returncode == 0
                     or not alive(self.pid), 20, "dockerd to answer")
            if not alive(self.pid):
                raise AssertionError("dockerd died:\n" + open(self.log).read()[-3000:])
        except BaseException:
            self.cleanup.run()
            raise

    def docker(self, *args, check=True, timeout=60, input=None):
        return sh(["docker", "-H", "unix://" + self.sock] + [str(a) for a in args],
                  check=check, timeout=timeout, input=input)

    def run(self, *args, runtime="casemate", check=True, timeout=60):
        """docker run --rm --runtime RUNTIME ARGS...; CompletedProcess."""
        rt = ["--runtime", runtime] if runtime else []
        return self.docker("run", "--rm", *rt, *args, check=check, timeout=timeout)

    def import_rootfs(self, rootfs, tag):
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        p = subprocess.run(["docker", "-H", "unix://" + self.sock, "import", "-", tag],
                           stdin=tar.stdout, capture_output=True, text=True, timeout=60)
        tar.stdout.close()
        tar.wait()
        assert p.returncode == 0, p.stderr

    def _kill_leftovers(self):
        for pid in pids_under(self.root):
            stop_pid(pid, 2)

    def close(self):
        if self.pid and alive(self.pid):
            r = self.docker("ps", "-aq", check=False)
            ids = r.stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
        return self.cleanup.run()


# ---------------------------------------------------------------- podman

PODMAN_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "casemate"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{root}/events.log"
lock_type = "file"
runtime_supports_json = ["crun", "runc", "casemate"]
tmp_dir = "{root}/tmp"

[engine.runtimes]
casemate = ["{casemate}"]
"""

PODMAN_HOST_PATHS = ("/var/lib/containers", "/run/containers", "/run/libpod")


class Podman:
    def __init__(self, casemate):
        self.casemate = casemate
        self.root = new_tmp("podman")
        self.cg = "/" + os.path.basename(self.root)
        self.cleanup = Cleanup()
        self.cleanup.add(shutil.rmtree, self.root, True)
        self.cleanup.add(remove_cgroups, self.cg)
        # podman's conmon cgroup for cgroupfs: libpod_parent, if it is ours.
        if not cgroup_dirs("libpod_parent"):
            self.cleanup.add(remove_cgroups, "/libpod_parent")
        remove_if_new(self.cleanup, PODMAN_HOST_PATHS)
        self.cleanup.add(unmount_under, self.root)
        self.cleanup.add(self._kill_leftovers)
        self.conf = os.path.join(self.root, "containers.conf")
        with open(self.conf, "w") as f:
            f.write(PODMAN_CONF.format(root=self.root, casemate=casemate))
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)

    def podman(self, *args, check=True, timeout=60):
        cmd = ["podman", "--root", os.path.join(self.root, "root"),
               "--runroot", os.path.join(self.root, "runroot"),
               "--tmpdir", os.path.join(self.root, "tmp")] + [str(a) for a in args]
        return sh(cmd, check=check, timeout=timeout, env=self.env)

    def run(self, *args, check=True, timeout=60, runtime=None):
        """podman --runtime CASEMATE run --rm --network none --cgroup-parent ..."""
        return self.podman("--runtime", runtime or self.casemate, "run", "--rm",
                           "--cgroup-parent", self.cg, *args, check=check, timeout=timeout)

    def import_rootfs(self, rootfs, tag):
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        p = subprocess.run(["podman", "--root", os.path.join(self.root, "root"),
                            "--runroot", os.path.join(self.root, "runroot"),
                            "--tmpdir", os.path.join(self.root, "tmp"), "import", "-", tag],
                           stdin=tar.stdout, capture_output=True, text=True, timeout=60,
                           env=self.env)
        tar.stdout.close()
        tar.wait()
        assert p.returncode == 0, p.stderr

    def _kill_leftovers(self):
        for pid in pids_under(self.root):
            stop_pid(pid, 2)

    def close(self):
        self.podman("rm", "-af", "-t", "0", check=False)
        return self.cleanup.run()


# ---------------------------------------------------------------- containerd

CONTAINERD_CONF = """\
version = 2
root = "{root}/root"
state = "{root}/state"

[grpc]
  address = "{root}/containerd.sock"

[ttrpc]
  address = "{root}/containerd.sock.ttrpc"

[debug]
  address = "{root}/debug.sock"

[metrics]
  address = ""

"""

# The snippet of docs/engines.md, with the binary's path substituted.
CONTAINERD_CRI_SNIPPET = """\
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.casemate]
  runtime_type = "io.containerd.runc.v2"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.casemate.options]
    BinaryName = "{casemate}"
    SystemdCgroup = false
"""


class Containerd:
    def __init__(self, casemate):
        self.root = new_tmp("ctrd")
        self.cg = "/" + os.path.basename(self.root)
        self.sock = os.path.join(self.root, "containerd.sock")
        self.cleanup = Cleanup()
        self.cleanup.add(shutil.rmtree, self.root, True)
        self.cleanup.add(remove_cgroups, self.cg)
        remove_if_new(self.cleanup, CONTAINERD_HOST_PATHS)
        self.cleanup.add(unmount_under, self.root)
        self.cleanup.add(self._kill_leftovers)
        self.conf = os.path.join(self.root, "config.toml")
        with open(self.conf, "w") as f:
            f.write(CONTAINERD_CONF.format(root=self.root))
            f.write(CONTAINERD_CRI_SNIPPET.format(casemate=casemate))
        try:
            self.pid = start_daemon(["containerd", "--config", self.conf],
                                    os.path.join(self.root, "containerd.log"))
            self.cleanup.add(stop_pid, self.pid, 20)
            wait_for(lambda: self.ctr("version", check=False).returncode == 0
                     or not alive(self.pid), 20, "containerd to answer")
            if not alive(self.pid):
                raise AssertionError("containerd died:\n" + open(
                    os.path.join(self.root, "containerd.log")).read()[-3000:])
        except BaseException:
            self.cleanup.run()
            raise

    def ctr(self, *args, check=True, timeout=60, input=None):
        return sh(["ctr", "-a", self.sock, "-n", "cm-eng"] + [str(a) for a in args],
                  check=check, timeout=timeout, input=input)

    def _kill_leftovers(self):
        for pid in pids_under(self.root):
            stop_pid(pid, 2)

    def close(self):
        if alive(self.pid):
            for t in self.ctr("tasks", "ls", "-q", check=False).stdout.split():
                self.ctr("tasks", "kill", "-s", "KILL", t, check=False)
                self.ctr("tasks", "rm", "-f", t, check=False)
            for c in self.ctr("containers", "ls", "-q", check=False).stdout.split():
                self.ctr("containers", "rm", c, check=False)
        return self.cleanup.run()
