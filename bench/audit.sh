#!/bin/sh
# casemate audit benchmarks, written to docs/benchmarks.md (audit section):
#  - Dockerfiles per second (200 realistic Dockerfiles in one call);
#  - image scan of a debootstrap root filesystem against `find ROOT -perm
#    -4000` as the floor (IMAGE_ROOT=DIR to reuse one; otherwise made with
#    debootstrap --variant=minbase from Debian's mirror, and removed);
#  - `audit host` with no Docker and, when docker.io is installed, against
#    an isolated dockerd (own data root, socket, no bridge or iptables)
#    with 0 and 10 running containers. Everything it starts is stopped and
#    removed, even on failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cm=${CASEMATE:-$top/build/casemate}
rootfs=${ROOTFS:-$top/build/rootfs}
out=${OUT:-$top/docs/benchmarks.md}
work=$(mktemp -d /tmp/casemate-audit-bench.XXXXXX)
dockerd_pid=""
cleanup() {
    if [ -n "$dockerd_pid" ]; then
        docker -H "unix://$work/docker.sock" ps -aq 2>/dev/null | xargs -r docker -H "unix://$work/docker.sock" rm -f >/dev/null 2>&1 || true
        kill "$dockerd_pid" 2>/dev/null || true
        i=0; while kill -0 "$dockerd_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        kill -9 "$dockerd_pid" 2>/dev/null || true
    fi
    find /sys/fs/cgroup -depth -type d -name "casemate-audit-bench-$$" -exec rmdir {} \; 2>/dev/null || true
    grep " $work" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# 1. Dockerfiles per second.
mkdir -p "$work/df"
for i in $(seq 200); do
cat > "$work/df/Dockerfile.$i" <<DF
# syntax=docker/dockerfile:1
ARG BASE=debian:12.$i
FROM \$BASE AS build
ENV APP_HOME=/srv/app PATH=/srv/app/bin:\$PATH
RUN apt-get update && apt-get install -y --no-install-recommends \\
      ca-certificates curl build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/app
COPY --chown=1000:1000 . .
RUN make -j2 && strip bin/app
FROM gcr.io/distroless/static:nonroot
COPY --from=build /srv/app/bin/app /app
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s CMD ["/app", "-health"]
ENTRYPOINT ["/app"]
DF
done
hyperfine -N --warmup 3 --runs 20 --export-json "$work/df.json" \
  "$cm audit dockerfile --format json --fail-on critical $(echo $work/df/Dockerfile.*)" >/dev/null

# 2. Image scan against find.
img=${IMAGE_ROOT:-}
if [ -z "$img" ]; then
    if command -v debootstrap >/dev/null; then
        img="$work/deb"
        debootstrap --variant=minbase bookworm "$img" >/dev/null 2>&1 || img=""
    fi
fi
[ -n "$img" ] || img=$rootfs
img_mb=$(du -sm "$img" | cut -f1)
hyperfine -N --warmup 3 --runs 20 --export-json "$work/img.json" \
  -n casemate "$cm audit image --format json --fail-on critical $img" \
  -n find "find $img -xdev -perm -4000" >/dev/null

# 3. audit host.
hyperfine -N --warmup 2 --runs 10 --export-json "$work/host0.json" \
  "$cm audit host --format json --fail-on critical --docker-socket $work/none.sock" >/dev/null
host10=""
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
    dockerd --data-root "$work/data" --exec-root "$work/exec" -H "unix://$work/docker.sock" \
        --pidfile "$work/docker.pid" --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
        --cgroup-parent "casemate-audit-bench-$$" >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    i=0; while [ ! -S "$work/docker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    D="docker -H unix://$work/docker.sock"
    if tar -C "$rootfs" -c . | $D import - casemate-bench-busybox >/dev/null 2>&1; then
        hyperfine -N --warmup 2 --runs 10 --export-json "$work/hostd0.json" \
          "$cm audit host --format json --fail-on critical --docker-socket $work/docker.sock" >/dev/null
        for i in $(seq 10); do
            $D run -d --network none --name bench$i casemate-bench-busybox sleep 1000 >/dev/null
        done
        hyperfine -N --warmup 2 --runs 10 --export-json "$work/hostd10.json" \
          "$cm audit host --format json --fail-on critical --docker-socket $work/docker.sock" >/dev/null
        host10=1
    fi
fi

/usr/bin/python3 - "$work" "$out" "$img" "$img_mb" "$host10" <<'PY'
import json, statistics, sys, re, datetime, platform, os
work, out, img, img_mb, host10 = sys.argv[1:6]
def med(name, idx=0):
    return statistics.median(json.load(open(f"{work}/{name}.json"))["results"][idx]["times"]) * 1000
df = med("df")
lines = ["<!-- audit:begin -->",
         f"Measured {datetime.date.today()} on this project's machine ({platform.release()}, "
         f"{os.cpu_count()} cores) with hyperfine, `bench/audit.sh`; medians.", "",
         "| what | casemate | reference |", "|---|---|---|",
         f"| 200 Dockerfiles (16 lines each) in one `audit dockerfile` | {df:.1f} ms "
         f"({200 / df * 1000:.0f} Dockerfiles/s) | |",
         f"| `audit image` of {img_mb} MB ({'debootstrap minbase bookworm' if 'deb' in img else 'busybox root filesystem'}) "
         f"| {med('img', 0):.1f} ms | `find ROOT -perm -4000`: {med('img', 1):.1f} ms |",
         f"| `audit host`, Docker not running | {med('host0'):.1f} ms | docker-bench-security: 3.4 s with no container |"]
if host10:
    lines.append(f"| `audit host`, isolated dockerd, 0 containers | {med('hostd0'):.1f} ms | docker-bench-security: 3.4 s |")
    lines.append(f"| `audit host`, isolated dockerd, 10 running containers | {med('hostd10'):.1f} ms | "
                 f"docker-bench-security: 7.2 s with 3 containers |")
lines += ["", "docker-bench-security's figures are the ones measured on this kind of machine "
          "(../shared/audit-anchors.md); it was not run here.", "<!-- audit:end -->"]
block = "\n".join(lines)
try:
    text = open(out).read()
except FileNotFoundError:
    text = "# Benchmarks\n"
if "<!-- audit:begin -->" not in text:
    text += "\n## casemate audit\n\n<!-- audit:begin -->\n<!-- audit:end -->\n"
text = re.sub(r"<!-- audit:begin -->.*?<!-- audit:end -->", block, text, flags=re.S)
open(out, "w").write(text)
print(block)
PY
