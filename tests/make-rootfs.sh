#!/bin/sh
# Make a minimal busybox root filesystem from Debian's busybox-static.
# Usage: make-rootfs.sh DIR
set -eu
dir=$1
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-rootfs: $bb not found (apt-get install busybox-static)" >&2; exit 1; }
if ! "$bb" --list >/dev/null 2>&1 || ! file_is_static=$(ldd "$bb" 2>&1 | grep -c 'not a dynamic'); then :; fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
cd "$dir.tmp"
mkdir -p bin sbin usr/bin usr/sbin etc tmp run proc sys dev root home/app var/tmp
cp "$bb" bin/busybox
for applet in $(bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "bin/$applet"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
tty:x:5:
app:x:1000:
staff:x:50:app
nogroup:x:65534:
G
chown 1000:1000 home/app
chmod 1777 tmp var/tmp
chmod 700 root
echo 'casemate demo rootfs' > etc/motd
cd - >/dev/null
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "root filesystem ready in $dir"
