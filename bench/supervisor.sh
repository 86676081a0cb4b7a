#!/bin/sh
# Supervisor benchmark: the resident memory of the supervisor that casemate
# keeps per detached container (VmRSS, and PSS, from /proc/<pid>), and how the
# host's memory (free -m) and the start and delete times grow with N idle
# detached containers (`casemate run -d ROOTFS sleep 100000`, default N=200).
# Writes a table to docs/benchmarks.md between the supervisor markers.
#
# Everything runs under a private --root; every container is deleted at the
# end, also when the script fails or is interrupted.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cm=${CASEMATE:-$top/build/casemate}
rootfs=${ROOTFS:-$top/build/rootfs}
n=${N:-200}
out=${OUT:-$top/docs/benchmarks.md}
root=$(mktemp -d /tmp/casemate-bench-supervisor.XXXXXX)

cleanup() {
    ids=$("$cm" --root "$root" list -q 2>/dev/null || true)
    if [ -n "$ids" ]; then
        # shellcheck disable=SC2086 # one id a word
        "$cm" --root "$root" delete --force $ids >/dev/null || true
    fi
    rm -rf "$root"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pid_max=$(cat /proc/sys/kernel/pid_max)
# Each container holds two processes (supervisor and init).
if [ $((n * 2 + 1000)) -gt "$pid_max" ]; then
    echo "bench: N=$n needs more than pid_max=$pid_max processes" >&2
    exit 1
fi

/usr/bin/python3 - "$cm" "$root" "$rootfs" "$n" "$out" <<'PY'
import datetime, json, os, platform, re, statistics, subprocess, sys, time

cm, root, rootfs, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
base = [cm, "--root", root]


def used_mib():
    # free -m's "used": total - free - buffers - cache.
    line = subprocess.run(["free", "-m"], capture_output=True, text=True, check=True).stdout.splitlines()[1]
    return int(line.split()[2])


def status_kib(pid, key, name="status"):
    with open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def settle():
    subprocess.run(["sync"], check=True)
    time.sleep(1)


checkpoints = sorted({1, 10, 50, 100, 150, n} & set(range(1, n + 1)))
settle()
mem0 = used_mib()
rows = []
start_times = []
ids = [f"bench-sup-{os.getpid()}-{i}" for i in range(1, n + 1)]
t_all = time.monotonic()
for i, cid in enumerate(ids, 1):
    t = time.monotonic()
    p = subprocess.run(base + ["run", "-d", "--name", cid, rootfs, "sleep", "100000"],
                       capture_output=True, text=True)
    start_times.append(time.monotonic() - t)
    if p.returncode != 0:
        sys.exit(f"bench: starting container {i}: {p.stderr.strip()}")
    if i in checkpoints:
        rows.append((i, time.monotonic() - t_all, statistics.mean(start_times[-min(len(start_times), 10):]),
                     used_mib() - mem0))

sup_rss, sup_pss, sup_anon, init_rss, init_pss = [], [], [], [], []
for cid in ids:
    with open(os.path.join(root, cid, "state.json")) as f:
        st = json.load(f)
    s = st["supervisorPid"]
    sup_rss.append(status_kib(s, "VmRSS"))
    sup_anon.append(status_kib(s, "RssAnon"))
    sup_pss.append(status_kib(s, "Pss", "smaps_rollup"))
    init_rss.append(status_kib(st["pid"], "VmRSS"))
    init_pss.append(status_kib(st["pid"], "Pss", "smaps_rollup"))
settle()
mem_all = used_mib() - mem0

t = time.monotonic()
del_times = []
for cid in ids:
    t1 = time.monotonic()
    p = subprocess.run(base + ["delete", "--force", cid], capture_output=True, text=True)
    del_times.append(time.monotonic() - t1)
    if p.returncode != 0:
        sys.exit(f"bench: deleting {cid}: {p.stderr.strip()}")
t_del = time.monotonic() - t
settle()
mem_after = used_mib() - mem0
left = subprocess.run(base + ["list", "-q"], capture_output=True, text=True).stdout.split()
if left:
    sys.exit(f"bench: containers left after delete: {left}")

med = statistics.median
L = ["<!-- supervisor:begin -->"]
L.append(f"Measured {datetime.date.today()} on this project's machine ({platform.release()}, "
         f"{os.cpu_count()} cores, pid_max {open('/proc/sys/kernel/pid_max').read().strip()}), "
         f"{n} idle detached containers (`casemate run -d ROOTFS sleep 100000`) started one after "
         f"the other, then deleted one by one with `delete --force`; `bench/supervisor.sh`.")
L.append("")
L.append("Supervisor per container (from /proc/<supervisor>/status and smaps_rollup; KiB):")
L.append("")
L.append("| | median | min | max |")
L.append("|---|---|---|---|")
L.append(f"| supervisor VmRSS | {med(sup_rss):.0f} | {min(sup_rss)} | {max(sup_rss)} |")
L.append(f"| supervisor RssAnon (its own pages) | {med(sup_anon):.0f} | {min(sup_anon)} | {max(sup_anon)} |")
L.append(f"| supervisor PSS (shared pages split) | {med(sup_pss):.0f} | {min(sup_pss)} | {max(sup_pss)} |")
L.append(f"| container init (`sleep`) VmRSS, for scale | {med(init_rss):.0f} | {min(init_rss)} | {max(init_rss)} |")
L.append("")
L.append(f"All {n} supervisors together: {sum(sup_pss) / 1024:.1f} MiB of PSS; with their container "
         f"inits: {(sum(sup_pss) + sum(init_pss)) / 1024:.1f} MiB "
         f"({(sum(sup_pss) + sum(init_pss)) / n:.0f} KiB per container, user-space pages only).")
L.append("")
L.append("Growth with the number of containers (memory: `free -m` used, minus before the first):")
L.append("")
L.append("| containers | elapsed (s) | mean `run -d` of the last 10 (ms) | memory used (MiB) | MiB per container |")
L.append("|---|---|---|---|---|")
for i, el, mean_start, mem in rows:
    L.append(f"| {i} | {el:.2f} | {mean_start * 1000:.1f} | {mem} | {mem / i:.2f} |")
L.append("")
L.append(f"With all {n} running and settled: {mem_all} MiB used ({mem_all / n:.2f} MiB per container, "
         f"supervisor, container init, page tables, cgroups and kernel objects together). "
         f"Deleting them: {t_del:.2f} s in all, median {med(del_times) * 1000:.1f} ms, "
         f"max {max(del_times) * 1000:.1f} ms per `delete --force`; "
         f"memory used afterwards: {mem_after:+d} MiB from before. "
         f"`free -m` counts the whole machine: other work running at the same time shows in it "
         f"(PSS above does not).")
L.append("<!-- supervisor:end -->")
block = "\n".join(L)
try:
    text = open(out).read()
except FileNotFoundError:
    text = ("# Benchmarks\n\n## Container start-up\n\n<!-- startup:begin -->\n<!-- startup:end -->\n\n"
            "## Detached containers and their supervisors\n\n<!-- supervisor:begin -->\n"
            "<!-- supervisor:end -->\n")
if "<!-- supervisor:begin -->" not in text:
    text += "\n## Detached containers and their supervisors\n\n<!-- supervisor:begin -->\n<!-- supervisor:end -->\n"
text = re.sub(r"<!-- supervisor:begin -->.*?<!-- supervisor:end -->", lambda m: block, text, flags=re.S)
open(out, "w").write(text)
print(block)
PY
