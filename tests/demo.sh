#!/bin/sh
# make demo: a hardened container on a busybox root filesystem, showing what
# it can and cannot do, then an audit. Usage: demo.sh CASEMATE ROOTFS
set -u
cm=$1
rootfs=$2
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "casemate run $rootfs: every hardening on, no flags"
"$cm" run "$rootfs" /bin/sh -c '
  echo "who am I:        $(id)"
  echo "host uid range:  $(cat /proc/self/uid_map | tr -s " ")  (container root is nobody on the host)"
  grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | sed "s/^/  /"
  echo "network:         $(cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " | tr "\n" " ")"
  echo "processes:       $(ls -d /proc/[0-9]* | wc -l) visible"
  printf "write to /:      "; touch /evil 2>&1 | sed "s/^touch: //" || true
  printf "mount:           "; mount -t tmpfs x /mnt 2>&1 | sed "s/^mount: //"
  printf "unshare -U:      "; unshare -U true 2>&1 | sed "s/^unshare: //"
  printf "/proc/kcore etc: "; cat /proc/timer_list | wc -c | sed "s/$/ bytes (masked)/"
  printf "exec from /tmp:  "; cp /bin/busybox /tmp/sh && /tmp/sh true 2>&1 | sed "s/^.*: //"; echo
  echo "/tmp is writable: $(echo ok > /tmp/f && cat /tmp/f)"
'
say "seed 001: --security-opt seccomp=chmod.json (chmod refused)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{ "name": "chmod", "action": "SCMP_ACT_ERRNO" }] }' > "$tmp/chmod.json"
"$cm" run --security-opt seccomp="$tmp/chmod.json" "$rootfs" /bin/sh -c 'echo x > /tmp/f; chmod 777 /tmp/f'
echo "exit status: $?"

say "seed 001: a fork bomb under --pids-limit=20 (the host stays responsive)"
"$cm" run --pids-limit=20 "$rootfs" /bin/sh -c '
  bomb() { bomb | bomb & }; bomb 2>/dev/null
  i=0; while [ $i -lt 200000 ]; do i=$((i + 1)); done   # builtins only: no fork needed
  for d in /sys/fs/cgroup/pids /sys/fs/cgroup; do
    [ -r $d/pids.max ] || continue
    read cur < $d/pids.current; read max < $d/pids.max; read ev n < $d/pids.events
    echo "processes in the container: $cur of $max; forks refused by the limit: $n"; break
  done' 2>/dev/null
echo "the host can still fork: $(echo ok | cat)"

say "seed 000: --cap-drop=all then --cap-add NET_BIND_SERVICE"
"$cm" run --cap-drop=all --cap-add=NET_BIND_SERVICE "$rootfs" grep CapEff /proc/self/status

say "casemate audit dockerfile: a Dockerfile that breaks the seeds' rules"
cat > "$tmp/Dockerfile" <<'DF'
FROM debian:latest
ENV DB_PASSWORD=hunter2
RUN apt-get update
ADD https://example.com/install.sh /install.sh
RUN curl -sSL https://example.com/x.sh | sh
RUN apt-get install -y openssh-server sudo && chmod 777 /srv
EXPOSE 22
CMD ["/usr/sbin/sshd", "-D"]
DF
"$cm" audit dockerfile "$tmp/Dockerfile" || true
echo
echo "Done: nothing was left behind (no mounts, cgroups or processes)."
