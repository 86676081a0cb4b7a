#!/bin/sh
# OCI runtime benchmark: one container lifecycle as an engine drives it,
# `create` + `start` + wait for exit + `delete` of /bin/true on one bundle,
# casemate against runc and crun (Debian packages); then `docker run --rm`
# through each runtime on a private dockerd. hyperfine, RUNS (default 40)
# runs each after 5 warm-ups. Writes medians and ratios to docs/benchmarks.md
# between <!-- oci:begin --> and <!-- oci:end -->.
#
# The bundle is `runc spec` with the busybox root, read-only, and no ambient
# capabilities (casemate refuses ambient capabilities that are not also
# inheritable; the other two drop them silently): the same file for all.
#
# crun 1.8 refuses this cgroup-hybrid host (v1 controllers plus a v2 mount);
# as in bench/run.sh it runs in a private mount namespace with
# /sys/fs/cgroup/unified unmounted, and casemate is also measured through
# the same wrapper ("casemate-wrapped") for a like-for-like ratio. Docker
# runs crun through that wrapper too (a script registered as the runtime).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cm=${CASEMATE:-$top/build/casemate}
rootfs=${ROOTFS:-$top/build/rootfs}
runs=${RUNS:-40}
out=${OUT:-$top/docs/benchmarks.md}
work=$(mktemp -d /tmp/cm-eng-bench.XXXXXX)
dockerd_pid=
# containerd 1.6 keeps its shims' sockets in /run/containerd whatever the
# daemon's roots: remove it afterwards if this run made it.
[ -e /run/containerd ] && run_containerd_was_there=1 || run_containerd_was_there=0
cleanup() {
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null || true
        i=0
        while kill -0 "$dockerd_pid" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
    fi
    # dockerd leaves its netns mount (and overlay mounts if killed hard)
    grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | \
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    for h in /sys/fs/cgroup/*/"$(basename "$work")"; do
        [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
    rm -rf "$work"
    [ $run_containerd_was_there = 1 ] || rm -rf /run/containerd
}
trap cleanup EXIT INT TERM

for t in hyperfine crun runc; do
    command -v $t >/dev/null || { echo "bench: $t not installed (make deps)" >&2; exit 1; }
done
[ -x "$cm" ] || { echo "bench: no casemate at $cm (make)" >&2; exit 1; }

mkdir -p "$work/bundle" "$work/state"
( cd "$work/bundle" && runc spec )
/usr/bin/python3 - "$work/bundle/config.json" "$rootfs" <<'PY'
import json, sys
p, rootfs = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["root"] = {"path": rootfs, "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["process"]["capabilities"].pop("ambient", None)
json.dump(c, open(p, "w"), indent=1)
PY

hybrid=0
if grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mounts && \
   [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    hybrid=1
fi
cat > "$work/in-private-ns.sh" <<'SH'
#!/bin/sh
# Run "$@" in a private mount namespace without the cgroup v2 mount.
exec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh "$@"
SH
chmod +x "$work/in-private-ns.sh"
# dockerd runs a runtime by path, without arguments: crun behind the wrapper
printf '#!/bin/sh\nexec %s crun "$@"\n' "$work/in-private-ns.sh" > "$work/in-private-ns.sh-crun"
chmod +x "$work/in-private-ns.sh-crun"
wrap=""
[ $hybrid = 1 ] && wrap="$work/in-private-ns.sh"

# One lifecycle: create, start, wait until the init has exited (it is not
# our child: read its state from /proc with builtins only), delete.
cat > "$work/cycle.sh" <<'SH'
#!/bin/sh
# cycle.sh BUNDLE STATE ID RUNTIME...
set -e
b=$1 st=$2 id=$3; shift 3
"$@" --root "$st" create --bundle "$b" --pid-file "$st/$id.pid" "$id"
"$@" --root "$st" start "$id"
read -r pid < "$st/$id.pid" || [ -n "$pid" ] # no newline at the end
while read -r _ _ s _ < "/proc/$pid/stat" 2>/dev/null && [ "$s" != Z ]; do :; done
"$@" --root "$st" delete "$id"
SH
chmod +x "$work/cycle.sh"
cyc="$work/cycle.sh $work/bundle $work/state"

# Every runtime must pass one cycle before it is timed.
$cyc check-cm "$cm"
$cyc check-runc runc
$cyc check-crun $wrap crun

set -- \
  -n casemate "$cyc cm $cm" \
  -n runc "$cyc runc runc" \
  -n crun "$cyc crun $wrap crun"
if [ $hybrid = 1 ]; then
  set -- "$@" -n casemate-wrapped "$cyc cmw $wrap $cm"
fi
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/lifecycle.json" "$@"

# docker run --rm through each runtime, on a private daemon.
docker_json=""
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    d=$work/docker
    mkdir -p "$d"
    cg=/$(basename "$work")
    crun_path=$(command -v crun)
    [ -n "$wrap" ] && crun_path=$work/in-private-ns.sh-crun
    dockerd --data-root "$d/data" --exec-root "$d/exec" -H "unix://$d/docker.sock" \
        --pidfile "$d/pid" --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
        --cgroup-parent "$cg" --add-runtime "casemate=$cm" \
        --add-runtime "crun=$crun_path" >"$d/log" 2>&1 &
    dockerd_pid=$!
    i=0
    until docker -H "unix://$d/docker.sock" version >/dev/null 2>&1; do
        i=$((i+1)); [ $i -lt 200 ] || { echo "bench: dockerd did not start" >&2; exit 1; }
        sleep 0.05
    done
    tar -C "$rootfs" -c . | docker -H "unix://$d/docker.sock" import - cm-bench >/dev/null
    dk="docker -H unix://$d/docker.sock run --rm --network none"
    $dk --runtime casemate cm-bench /bin/true
    $dk --runtime runc cm-bench /bin/true
    $dk --runtime crun cm-bench /bin/true
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/docker.json" \
      -n "docker+casemate" "$dk --runtime casemate cm-bench /bin/true" \
      -n "docker+runc" "$dk --runtime runc cm-bench /bin/true" \
      -n "docker+crun" "$dk --runtime crun cm-bench /bin/true"
    docker_json=$work/docker.json
fi

/usr/bin/python3 - "$out" "$hybrid" "$runs" "$work/lifecycle.json" "$docker_json" <<'PY'
import json, statistics, sys, platform, datetime, subprocess, re
out, hybrid, runs, life, dock = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4], sys.argv[5]
def medians(path):
    return {r["command"]: statistics.median(r["times"]) * 1000
            for r in json.load(open(path))["results"]}
def ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        return "?"
L = ["<!-- oci:begin -->"]
L.append(f"Measured {datetime.date.today()} by `bench/oci.sh` on this project's machine "
         f"({platform.release()}, "
         f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores), "
         f"hyperfine, {runs} runs each after warm-ups.")
L.append("")
L.append("OCI lifecycle, `create` + `start` + wait + `delete` of `/bin/true` on one bundle "
         "(`runc spec`, read-only busybox root):")
L.append("")
L.append("| runtime | median (ms) | ratio to casemate |")
L.append("|---|---|---|")
m = medians(life)
base = m["casemate"]
for k, v in m.items():
    L.append(f"| {k} | {v:.1f} | {v / base:.2f} |")
if hybrid:
    L.append("")
    L.append("This host is cgroup-hybrid: crun runs in a private mount namespace with the v2 "
             "mount removed (it refuses the host otherwise); casemate-wrapped is casemate "
             "through the same wrapper, the like-for-like comparison with crun.")
if dock:
    d = medians(dock)
    L.append("")
    L.append("`docker run --rm --network none IMAGE /bin/true` on a private dockerd "
             "(containerd shim, overlay2):")
    L.append("")
    L.append("| runtime | median (ms) | ratio to docker+casemate |")
    L.append("|---|---|---|")
    b = d["docker+casemate"]
    for k, v in d.items():
        L.append(f"| {k} | {v:.1f} | {v / b:.2f} |")
    if hybrid:
        L.append("")
        L.append("docker+crun is crun through the same private-mount-namespace wrapper, "
                 "registered with `--add-runtime`.")
L.append("")
L.append(f"Versions: {ver(['crun', '--version'])}; {ver(['runc', '--version'])}; "
         f"{ver(['dockerd', '--version'])}.")
L.append("<!-- oci:end -->")
block = "\n".join(L)
try:
    text = open(out).read()
except FileNotFoundError:
    text = "# Benchmarks\n"
if "<!-- oci:begin -->" in text:
    text = re.sub(r"<!-- oci:begin -->.*?<!-- oci:end -->", lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## OCI runtime lifecycle and Docker\n\n" + block + "\n"
open(out, "w").write(text)
print(block)
PY
