/* test_oci.c: OCI config.json parsing (spec/oci.c): realistic configs as
 * runc spec and dockerd write them, every refusal naming its JSON path, and
 * casemate's default config parsing back into the same hardened spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/caps.h"
#include "spec/oci.h"
#include "spec/seccomp_profile.h"
#include "spec/spec.h"
#include "util/cleanup.h"

extern const char *const cm_default_masked_paths[];
extern const char *const cm_default_readonly_paths[];

/* tests/fuzz/corpus/fuzz_oci_config/runc_spec.json */
static const char runc_spec_json[] =
    "{\n"
    "\t\"ociVersion\": \"1.0.2-dev\",\n"
    "\t\"process\": {\n"
    "\t\t\"terminal\": true,\n"
    "\t\t\"user\": {\n"
    "\t\t\t\"uid\": 1000,\n"
    "\t\t\t\"gid\": 1000,\n"
    "\t\t\t\"umask\": 18,\n"
    "\t\t\t\"additionalGids\": [10, 27]\n"
    "\t\t},\n"
    "\t\t\"args\": [\n"
    "\t\t\t\"sh\", \"-c\", \"echo hello\"\n"
    "\t\t],\n"
    "\t\t\"env\": [\n"
    "\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
    "\t\t\t\"TERM=xterm\"\n"
    "\t\t],\n"
    "\t\t\"cwd\": \"/srv\",\n"
    "\t\t\"capabilities\": {\n"
    "\t\t\t\"bounding\": [\n"
    "\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
    "\t\t\t\t\"CAP_KILL\",\n"
    "\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
    "\t\t\t],\n"
    "\t\t\t\"effective\": [\n"
    "\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
    "\t\t\t\t\"CAP_KILL\",\n"
    "\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
    "\t\t\t],\n"
    "\t\t\t\"inheritable\": [\n"
    "\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
    "\t\t\t],\n"
    "\t\t\t\"permitted\": [\n"
    "\t\t\t\t\"CAP_AUDIT_WRITE\",\n"
    "\t\t\t\t\"CAP_KILL\",\n"
    "\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
    "\t\t\t],\n"
    "\t\t\t\"ambient\": [\n"
    "\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t\"rlimits\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n"
    "\t\t\t\t\"hard\": 1024,\n"
    "\t\t\t\t\"soft\": 1024\n"
    "\t\t\t}\n"
    "\t\t],\n"
    "\t\t\"noNewPrivileges\": true,\n"
    "\t\t\"oomScoreAdj\": 100\n"
    "\t},\n"
    "\t\"root\": {\n"
    "\t\t\"path\": \"rootfs\",\n"
    "\t\t\"readonly\": true\n"
    "\t},\n"
    "\t\"hostname\": \"runc\",\n"
    "\t\"domainname\": \"example.org\",\n"
    "\t\"mounts\": [\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/proc\",\n"
    "\t\t\t\"type\": \"proc\",\n"
    "\t\t\t\"source\": \"proc\"\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/dev\",\n"
    "\t\t\t\"type\": \"tmpfs\",\n"
    "\t\t\t\"source\": \"tmpfs\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"strictatime\",\n"
    "\t\t\t\t\"mode=755\",\n"
    "\t\t\t\t\"size=65536k\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/dev/pts\",\n"
    "\t\t\t\"type\": \"devpts\",\n"
    "\t\t\t\"source\": \"devpts\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"noexec\",\n"
    "\t\t\t\t\"newinstance\",\n"
    "\t\t\t\t\"ptmxmode=0666\",\n"
    "\t\t\t\t\"mode=0620\",\n"
    "\t\t\t\t\"gid=5\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/dev/shm\",\n"
    "\t\t\t\"type\": \"tmpfs\",\n"
    "\t\t\t\"source\": \"shm\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"noexec\",\n"
    "\t\t\t\t\"nodev\",\n"
    "\t\t\t\t\"mode=1777\",\n"
    "\t\t\t\t\"size=65536k\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/dev/mqueue\",\n"
    "\t\t\t\"type\": \"mqueue\",\n"
    "\t\t\t\"source\": \"mqueue\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"noexec\",\n"
    "\t\t\t\t\"nodev\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/sys\",\n"
    "\t\t\t\"type\": \"sysfs\",\n"
    "\t\t\t\"source\": \"sysfs\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"noexec\",\n"
    "\t\t\t\t\"nodev\",\n"
    "\t\t\t\t\"ro\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/sys/fs/cgroup\",\n"
    "\t\t\t\"type\": \"cgroup\",\n"
    "\t\t\t\"source\": \"cgroup\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"noexec\",\n"
    "\t\t\t\t\"nodev\",\n"
    "\t\t\t\t\"relatime\",\n"
    "\t\t\t\t\"ro\"\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t{\n"
    "\t\t\t\"destination\": \"/data\",\n"
    "\t\t\t\"type\": \"bind\",\n"
    "\t\t\t\"source\": \"/srv/data\",\n"
    "\t\t\t\"options\": [\n"
    "\t\t\t\t\"rbind\",\n"
    "\t\t\t\t\"rprivate\",\n"
    "\t\t\t\t\"nosuid\",\n"
    "\t\t\t\t\"nodev\",\n"
    "\t\t\t\t\"rw\",\n"
    "\t\t\t\t\"exec\",\n"
    "\t\t\t\t\"idmap\"\n"
    "\t\t\t]\n"
    "\t\t}\n"
    "\t],\n"
    "\t\"hooks\": {\n"
    "\t\t\"createRuntime\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"path\": \"/usr/local/bin/netns-setup\",\n"
    "\t\t\t\t\"args\": [\"netns-setup\", \"--veth\"],\n"
    "\t\t\t\t\"env\": [\"LOG=1\"],\n"
    "\t\t\t\t\"timeout\": 5\n"
    "\t\t\t}\n"
    "\t\t],\n"
    "\t\t\"poststop\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"path\": \"/usr/local/bin/cleanup\"\n"
    "\t\t\t}\n"
    "\t\t]\n"
    "\t},\n"
    "\t\"annotations\": {\n"
    "\t\t\"org.opencontainers.image.stopSignal\": \"SIGTERM\"\n"
    "\t},\n"
    "\t\"linux\": {\n"
    "\t\t\"uidMappings\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"containerID\": 0,\n"
    "\t\t\t\t\"hostID\": 100000,\n"
    "\t\t\t\t\"size\": 65536\n"
    "\t\t\t}\n"
    "\t\t],\n"
    "\t\t\"gidMappings\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"containerID\": 0,\n"
    "\t\t\t\t\"hostID\": 100000,\n"
    "\t\t\t\t\"size\": 65536\n"
    "\t\t\t}\n"
    "\t\t],\n"
    "\t\t\"devices\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"path\": \"/dev/fuse\",\n"
    "\t\t\t\t\"type\": \"c\",\n"
    "\t\t\t\t\"major\": 10,\n"
    "\t\t\t\t\"minor\": 229,\n"
    "\t\t\t\t\"fileMode\": 438,\n"
    "\t\t\t\t\"uid\": 0,\n"
    "\t\t\t\t\"gid\": 0\n"
    "\t\t\t}\n"
    "\t\t],\n"
    "\t\t\"resources\": {\n"
    "\t\t\t\"devices\": [\n"
    "\t\t\t\t{\n"
    "\t\t\t\t\t\"allow\": false,\n"
    "\t\t\t\t\t\"access\": \"rwm\"\n"
    "\t\t\t\t},\n"
    "\t\t\t\t{\n"
    "\t\t\t\t\t\"allow\": true,\n"
    "\t\t\t\t\t\"type\": \"c\",\n"
    "\t\t\t\t\t\"major\": 10,\n"
    "\t\t\t\t\t\"minor\": 229,\n"
    "\t\t\t\t\t\"access\": \"rw\"\n"
    "\t\t\t\t}\n"
    "\t\t\t],\n"
    "\t\t\t\"memory\": {\n"
    "\t\t\t\t\"limit\": 536870912,\n"
    "\t\t\t\t\"reservation\": 268435456,\n"
    "\t\t\t\t\"swap\": 1073741824\n"
    "\t\t\t},\n"
    "\t\t\t\"cpu\": {\n"
    "\t\t\t\t\"shares\": 512,\n"
    "\t\t\t\t\"quota\": 50000,\n"
    "\t\t\t\t\"period\": 100000,\n"
    "\t\t\t\t\"cpus\": \"0-1\",\n"
    "\t\t\t\t\"mems\": \"0\"\n"
    "\t\t\t},\n"
    "\t\t\t\"pids\": {\n"
    "\t\t\t\t\"limit\": 64\n"
    "\t\t\t},\n"
    "\t\t\t\"blockIO\": {\n"
    "\t\t\t\t\"weight\": 300\n"
    "\t\t\t}\n"
    "\t\t},\n"
    "\t\t\"cgroupsPath\": \"/casemate/runc-like\",\n"
    "\t\t\"sysctl\": {\n"
    "\t\t\t\"net.ipv4.ip_forward\": \"0\"\n"
    "\t\t},\n"
    "\t\t\"namespaces\": [\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"pid\"\n"
    "\t\t\t},\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"network\"\n"
    "\t\t\t},\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"ipc\"\n"
    "\t\t\t},\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"uts\"\n"
    "\t\t\t},\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"mount\"\n"
    "\t\t\t},\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"cgroup\"\n"
    "\t\t\t},\n"
    "\t\t\t{\n"
    "\t\t\t\t\"type\": \"user\"\n"
    "\t\t\t}\n"
    "\t\t],\n"
    "\t\t\"seccomp\": {\n"
    "\t\t\t\"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
    "\t\t\t\"defaultErrnoRet\": 1,\n"
    "\t\t\t\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],\n"
    "\t\t\t\"syscalls\": [\n"
    "\t\t\t\t{\n"
    "\t\t\t\t\t\"names\": [\"read\", \"write\", \"exit_group\", \"execve\"],\n"
    "\t\t\t\t\t\"action\": \"SCMP_ACT_ALLOW\"\n"
    "\t\t\t\t},\n"
    "\t\t\t\t{\n"
    "\t\t\t\t\t\"names\": [\"personality\"],\n"
    "\t\t\t\t\t\"action\": \"SCMP_ACT_ALLOW\",\n"
    "\t\t\t\t\t\"args\": [\n"
    "\t\t\t\t\t\t{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}\n"
    "\t\t\t\t\t]\n"
    "\t\t\t\t},\n"
    "\t\t\t\t{\n"
    "\t\t\t\t\t\"names\": [\"chmod\"],\n"
    "\t\t\t\t\t\"action\": \"SCMP_ACT_ERRNO\",\n"
    "\t\t\t\t\t\"errnoRet\": 13\n"
    "\t\t\t\t}\n"
    "\t\t\t]\n"
    "\t\t},\n"
    "\t\t\"maskedPaths\": [\n"
    "\t\t\t\"/proc/acpi\",\n"
    "\t\t\t\"/proc/asound\",\n"
    "\t\t\t\"/proc/kcore\",\n"
    "\t\t\t\"/proc/keys\",\n"
    "\t\t\t\"/proc/latency_stats\",\n"
    "\t\t\t\"/proc/timer_list\",\n"
    "\t\t\t\"/proc/timer_stats\",\n"
    "\t\t\t\"/proc/sched_debug\",\n"
    "\t\t\t\"/sys/firmware\",\n"
    "\t\t\t\"/proc/scsi\"\n"
    "\t\t],\n"
    "\t\t\"readonlyPaths\": [\n"
    "\t\t\t\"/proc/bus\",\n"
    "\t\t\t\"/proc/fs\",\n"
    "\t\t\t\"/proc/irq\",\n"
    "\t\t\t\"/proc/sys\",\n"
    "\t\t\t\"/proc/sysrq-trigger\"\n"
    "\t\t],\n"
    "\t\t\"rootfsPropagation\": \"rslave\",\n"
    "\t\t\"mountLabel\": \"\"\n"
    "\t}\n"
    "}\n";

/* tests/fuzz/corpus/fuzz_oci_config/docker_run.json */
static const char docker_run_json[] =
    "{\"ociVersion\":\"1.1.0\",\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":50,\""
    "width\":200},\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[0,1,2,3,4,6,10,11,20,26,27]"
    "},\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbi"
    "n:/bin\",\"HOSTNAME=3b8f0a0c4d2e\",\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{\"bound"
    "ing\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\",\"CA"
    "P_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_BIND_S"
    "ERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"],\"effective\":[\"CAP_CHOWN\""
    ",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\",\"CAP_NET_RAW\",\"CAP_SE"
    "TGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_C"
    "HROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"],\"permitted\":[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE"
    "\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\",\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID"
    "\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL"
    "\",\"CAP_AUDIT_WRITE\"]},\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551"
    "615,\"soft\":18446744073709551615},{\"type\":\"RLIMIT_NOFILE\",\"hard\":20000,\"soft\":200"
    "00}],\"apparmorProfile\":\"\",\"oomScoreAdj\":0,\"selinuxLabel\":\"\"},\"root\":{\"path\":"
    "\"/var/lib/docker/overlay2/9c1f/merged\"},\"hostname\":\"3b8f0a0c4d2e\",\"mounts\":[{\"des"
    "tination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\",\"noexe"
    "c\",\"nodev\"]},{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"option"
    "s\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},{\"destination\":\"/dev/pts"
    "\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinsta"
    "nce\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},{\"destination\":\"/sys\",\"type\":\"sys"
    "fs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},{\"destina"
    "tion\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"ro\",\""
    "nosuid\",\"noexec\",\"nodev\"]},{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"sou"
    "rce\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},{\"destination\":\"/dev/sh"
    "m\",\"type\":\"bind\",\"source\":\"/var/lib/docker/containers/3b8f/mounts/shm\",\"options"
    "\":[\"rbind\",\"rprivate\"]},{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"sou"
    "rce\":\"/var/lib/docker/containers/3b8f/resolv.conf\",\"options\":[\"rbind\",\"rprivate\"]"
    "},{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"/var/lib/docker/contai"
    "ners/3b8f/hostname\",\"options\":[\"rbind\",\"rprivate\"]},{\"destination\":\"/etc/hosts\""
    ",\"type\":\"bind\",\"source\":\"/var/lib/docker/containers/3b8f/hosts\",\"options\":[\"rbi"
    "nd\",\"rprivate\"]},{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"op"
    "tions\":[\"noexec\",\"nosuid\",\"nodev\",\"size=65536k\"]}],\"hooks\":{\"prestart\":[{\"pa"
    "th\":\"/proc/4242/exe\",\"args\":[\"libnetwork-setkey\",\"-exec-root=/var/run/docker\",\"3"
    "b8f0a0c4d2e\",\"e1a5\"]}],\"createRuntime\":[{\"path\":\"/proc/4242/exe\",\"args\":[\"libn"
    "etwork-setkey\",\"-exec-root=/var/run/docker\",\"3b8f0a0c4d2e\",\"e1a5\"]}]},\"linux\":{\""
    "sysctl\":{\"net.ipv4.ip_unprivileged_port_start\":\"0\",\"net.ipv4.ping_group_range\":\"0 "
    "2147483647\"},\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":"
    "true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},{\"allow\":true,\"type\":"
    "\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\""
    ":1,\"minor\":9,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,"
    "\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rw"
    "m\"},{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":1,\"access\":\"rwm\"},{\"allow\""
    ":false,\"type\":\"c\",\"major\":10,\"minor\":229,\"access\":\"rwm\"},{\"allow\":true,\"typ"
    "e\":\"c\",\"major\":136,\"access\":\"rwm\"}],\"memory\":{\"limit\":67108864,\"swap\":13421"
    "7728,\"disableOOMKiller\":false},\"cpu\":{\"shares\":0,\"cpus\":\"0\"},\"pids\":{\"limit\""
    ":20},\"blockIO\":{\"weight\":0}},\"cgroupsPath\":\"/docker/3b8f0a0c4d2e\",\"namespaces\":["
    "{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/var/run/docker/netns/e1a5\"},{\"typ"
    "e\":\"uts\"},{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"cgroup\"}],\"seccomp\":{\"d"
    "efaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[\"SCMP_ARCH_X86"
    "_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"accept\",\"accept4"
    "\",\"access\",\"brk\",\"chdir\",\"close\",\"execve\",\"exit\",\"exit_group\",\"read\",\"wr"
    "ite\",\"openat\",\"fstat\",\"mmap\",\"munmap\",\"rt_sigaction\",\"rt_sigprocmask\",\"wait4"
    "\",\"getpid\",\"clone\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"personality\"],\"act"
    "ion\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},{\"n"
    "ames\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":13"
    "1072,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args"
    "\":[{\"index\":0,\"value\":2114060288,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},{\"names\":[\"chmod"
    "\",\"fchmod\",\"fchmodat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]},\"maskedPaths"
    "\":[\"/proc/asound\",\"/proc/acpi\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\""
    ",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/proc/scsi\",\"/sys/fi"
    "rmware\",\"/sys/devices/virtual/powercap\"],\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\","
    "\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}\n";

#define BIT(c) ((uint64_t)1 << (c))

static void spec_freep(struct cm_spec *s) { cm_spec_free(s); }
#define _cleanup_spec_ _cleanup_(spec_freep)

static int parse(const char *json, const char *bundle, struct cm_spec *spec, struct cm_error *err)
{
    memset(spec, 0, sizeof(*spec));
    return cm_oci_spec_parse(json, strlen(json), bundle, spec, err);
}

static const struct cm_mount *find_mount(const struct cm_spec *s, const char *dest)
{
    for (size_t i = 0; i < s->n_mounts; i++)
        if (!strcmp(s->mounts[i].destination, dest))
            return &s->mounts[i];
    return NULL;
}

static bool has_syscall(const struct cm_seccomp_profile *p, const char *name,
                        enum cm_scmp_action action)
{
    for (size_t i = 0; i < p->n_rules; i++)
        for (char **n = p->rules[i].names; n && *n; n++)
            if (!strcmp(*n, name) && p->rules[i].action == action)
                return true;
    return false;
}

static void test_runc_like(void **state)
{
    (void)state;
    _cleanup_spec_ struct cm_spec s;
    struct cm_error err = {0};
    int r = parse(runc_spec_json, "/bundles/b1", &s, &err);
    assert_int_equal(r, 0);
    assert_string_equal(s.args[0], "sh");
    assert_string_equal(s.args[2], "echo hello");
    assert_null(s.args[3]);
    assert_string_equal(s.env[1], "TERM=xterm");
    assert_string_equal(s.cwd, "/srv");
    assert_true(s.user_resolved);
    assert_int_equal(s.uid, 1000);
    assert_int_equal(s.gid, 1000);
    assert_string_equal(s.user, "1000:1000");
    assert_int_equal(s.n_additional_gids, 2);
    assert_int_equal(s.additional_gids[1], 27);
    assert_true(s.umask_set);
    assert_int_equal(s.umask, 022);
    assert_true(s.terminal);
    uint64_t three = BIT(cm_cap_from_name("CAP_AUDIT_WRITE")) | BIT(cm_cap_from_name("CAP_KILL")) |
                     BIT(cm_cap_from_name("CAP_NET_BIND_SERVICE"));
    assert_int_equal(s.cap_bounding, three);
    assert_int_equal(s.cap_effective, three);
    assert_int_equal(s.cap_permitted, three);
    assert_int_equal(s.cap_inheritable, BIT(cm_cap_from_name("CAP_NET_BIND_SERVICE")));
    assert_int_equal(s.cap_ambient, BIT(cm_cap_from_name("CAP_NET_BIND_SERVICE")));
    assert_int_equal(s.n_rlimits, 1);
    assert_int_equal(s.rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(s.rlimits[0].soft, 1024);
    assert_true(s.no_new_privs);
    assert_true(s.oom_score_adj_set);
    assert_int_equal(s.oom_score_adj, 100);
    assert_null(s.apparmor_profile);
    assert_string_equal(s.rootfs, "/bundles/b1/rootfs");
    assert_string_equal(s.bundle, "/bundles/b1");
    assert_true(s.readonly_rootfs);
    assert_string_equal(s.hostname, "runc");
    assert_string_equal(s.domainname, "example.org");

    assert_true(s.oci_mounts);
    assert_int_equal(s.n_mounts, 8);
    const struct cm_mount *m = find_mount(&s, "/dev");
    assert_non_null(m);
    assert_string_equal(m->type, "tmpfs");
    assert_int_equal(m->flags, MS_NOSUID | MS_STRICTATIME);
    assert_string_equal(m->data, "mode=755,size=65536k");
    m = find_mount(&s, "/dev/pts");
    assert_string_equal(m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    m = find_mount(&s, "/sys/fs/cgroup");
    assert_int_equal(m->flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);
    m = find_mount(&s, "/proc");
    assert_int_equal(m->flags, 0);
    assert_null(m->data);
    m = find_mount(&s, "/data");
    assert_string_equal(m->type, "bind");
    assert_string_equal(m->source, "/srv/data");
    assert_int_equal(m->flags, MS_BIND | MS_NOSUID | MS_NODEV);
    assert_int_equal(m->clear_flags, MS_RDONLY | MS_NOEXEC);
    assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
    assert_true(m->recursive);
    assert_true(m->idmap);
    assert_null(m->data);

    assert_int_equal(s.n_hooks[CM_HOOK_CREATE_RUNTIME], 1);
    const struct cm_hook *h = &s.hooks[CM_HOOK_CREATE_RUNTIME][0];
    assert_string_equal(h->path, "/usr/local/bin/netns-setup");
    assert_string_equal(h->args[1], "--veth");
    assert_string_equal(h->env[0], "LOG=1");
    assert_int_equal(h->timeout, 5);
    assert_int_equal(s.n_hooks[CM_HOOK_POSTSTOP], 1);
    assert_null(s.hooks[CM_HOOK_POSTSTOP][0].args);
    assert_int_equal(s.n_hooks[CM_HOOK_PRESTART], 0);
    assert_int_equal(s.n_annotations, 1);
    assert_string_equal(s.annotations[0].value, "SIGTERM");

    assert_int_equal(s.ns_new, CM_NS_PID | CM_NS_NET | CM_NS_IPC | CM_NS_UTS | CM_NS_MOUNT |
                                   CM_NS_CGROUP | CM_NS_USER);
    assert_int_equal(s.n_ns_join, 0);
    assert_int_equal(s.network, CM_NET_NONE);
    assert_int_equal(s.n_uid_map, 1);
    assert_int_equal(s.uid_map[0].host_id, 100000);
    assert_int_equal(s.gid_map[0].size, 65536);

    /* The device node, then the cgroup rules in order. */
    assert_int_equal(s.n_devices, 3);
    assert_string_equal(s.devices[0].path, "/dev/fuse");
    assert_int_equal(s.devices[0].type, 'c');
    assert_int_equal(s.devices[0].major, 10);
    assert_int_equal(s.devices[0].minor, 229);
    assert_int_equal(s.devices[0].file_mode, 0666);
    assert_null(s.devices[1].path);
    assert_false(s.devices[1].allow);
    assert_int_equal(s.devices[1].type, 'a');
    assert_int_equal(s.devices[1].major, -1);
    assert_string_equal(s.devices[1].access, "rwm");
    assert_true(s.devices[2].allow);
    assert_string_equal(s.devices[2].access, "rw");

    assert_int_equal(s.resources.memory_limit, 512 << 20);
    assert_int_equal(s.resources.memory_reservation, 256 << 20);
    assert_int_equal(s.resources.memory_swap, 1 << 30);
    assert_int_equal(s.resources.cpu_shares, 512);
    assert_int_equal(s.resources.cpu_quota, 50000);
    assert_int_equal(s.resources.cpu_period, 100000);
    assert_string_equal(s.resources.cpuset_cpus, "0-1");
    assert_string_equal(s.resources.cpuset_mems, "0");
    assert_int_equal(s.resources.pids_limit, 64);
    assert_int_equal(s.resources.blkio_weight, 300);
    assert_string_equal(s.cgroups_path, "/casemate/runc-like");
    assert_int_equal(s.n_sysctl, 1);
    assert_string_equal(s.sysctl[0].key, "net.ipv4.ip_forward");
    assert_string_equal(s.sysctl[0].value, "0");

    assert_false(s.seccomp_unconfined);
    assert_non_null(s.seccomp);
    assert_int_equal(s.seccomp->default_action, CM_SCMP_ERRNO);
    assert_int_equal(s.seccomp->n_rules, 3);
    assert_true(has_syscall(s.seccomp, "execve", CM_SCMP_ALLOW));
    assert_int_equal(s.seccomp->rules[1].args[0].value, 4294967295u);
    assert_int_equal(s.seccomp->rules[2].errno_ret, 13);

    assert_int_equal(cm_strv_len(s.masked_paths), 10);
    assert_string_equal(s.masked_paths[9], "/proc/scsi");
    assert_int_equal(cm_strv_len(s.readonly_paths), 5);
    assert_int_equal(s.rootfs_propagation, MS_SLAVE | MS_REC);
    assert_null(s.mount_label);
    if (cm_spec_validate(&s, &err) != 0)
        fail_msg("%s", err.msg);
}

static void test_docker_like(void **state)
{
    (void)state;
    _cleanup_spec_ struct cm_spec s;
    struct cm_error err = {0};
    int r = parse(docker_run_json, NULL, &s, &err);
    if (r < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.rootfs, "/var/lib/docker/overlay2/9c1f/merged");
    assert_null(s.bundle);
    assert_false(s.readonly_rootfs);
    assert_false(s.no_new_privs);
    assert_int_equal(s.cap_bounding, cm_cap_docker_default_mask());
    assert_int_equal(s.cap_ambient, 0);
    assert_int_equal(s.n_additional_gids, 11);
    /* docker --ulimit core=-1 writes 2^64-1, beyond jansson's int64. */
    assert_int_equal(s.n_rlimits, 2);
    assert_int_equal(s.rlimits[0].resource, RLIMIT_CORE);
    assert_true(s.rlimits[0].hard == UINT64_MAX);
    assert_true(s.rlimits[0].soft == UINT64_MAX);
    assert_int_equal(s.rlimits[1].hard, 20000);
    assert_null(s.apparmor_profile);
    assert_null(s.selinux_label);
    assert_int_equal(s.oom_score_adj, 0);

    const struct cm_mount *m = find_mount(&s, "/etc/resolv.conf");
    assert_non_null(m);
    assert_string_equal(m->type, "bind");
    assert_int_equal(m->flags, MS_BIND);
    assert_true(m->recursive);
    assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
    m = find_mount(&s, "/tmp");
    assert_int_equal(m->flags, MS_NOEXEC | MS_NOSUID | MS_NODEV);
    assert_string_equal(m->data, "size=65536k");

    assert_int_equal(s.n_hooks[CM_HOOK_PRESTART], 1);
    assert_string_equal(s.hooks[CM_HOOK_PRESTART][0].path, "/proc/4242/exe");
    assert_string_equal(s.hooks[CM_HOOK_PRESTART][0].args[0], "libnetwork-setkey");
    assert_int_equal(s.n_hooks[CM_HOOK_CREATE_RUNTIME], 1);

    /* Joined network namespace; no user namespace (Docker's default). */
    assert_int_equal(s.ns_new, CM_NS_MOUNT | CM_NS_UTS | CM_NS_PID | CM_NS_IPC | CM_NS_CGROUP);
    assert_int_equal(s.n_ns_join, 1);
    assert_int_equal(s.ns_join[0].type, CM_NS_NET);
    assert_string_equal(s.ns_join[0].path, "/var/run/docker/netns/e1a5");
    assert_int_equal(s.network, CM_NET_JOIN);
    assert_int_equal(s.n_uid_map, 0);

    assert_int_equal(s.n_devices, 9);
    assert_int_equal(s.devices[8].major, 136);
    assert_int_equal(s.devices[8].minor, -1);
    assert_false(s.devices[7].allow);
    assert_int_equal(s.resources.memory_limit, 64 << 20);
    assert_int_equal(s.resources.memory_swap, 128 << 20);
    assert_int_equal(s.resources.memory_reservation, -1);
    /* Go's zero values mean "not set". */
    assert_int_equal(s.resources.cpu_shares, 0);
    assert_int_equal(s.resources.cpu_quota, -1);
    assert_int_equal(s.resources.blkio_weight, 0);
    assert_string_equal(s.resources.cpuset_cpus, "0");
    assert_null(s.resources.cpuset_mems);
    assert_int_equal(s.resources.pids_limit, 20);
    assert_string_equal(s.cgroups_path, "/docker/3b8f0a0c4d2e");
    assert_int_equal(s.n_sysctl, 2);
    assert_non_null(s.seccomp);
    assert_true(has_syscall(s.seccomp, "chmod", CM_SCMP_ERRNO));
    assert_int_equal(cm_strv_len(s.masked_paths), 11);
    assert_int_equal(s.rootfs_propagation, MS_PRIVATE | MS_REC);
    assert_int_equal(cm_spec_validate(&s, &err), 0);
}

/* What the runtime-spec says an absent field means. */
static void test_minimal_as_written(void **state)
{
    (void)state;
    _cleanup_spec_ struct cm_spec s;
    struct cm_error err = {0};
    const char *json = "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"/bin/true\"],"
                       "\"cwd\":\"/\"},\"root\":{\"path\":\"/r\"},\"linux\":{}}";
    assert_int_equal(parse(json, "/b", &s, &err), 0);
    assert_true(s.seccomp_unconfined);
    assert_null(s.seccomp);
    assert_false(s.no_new_privs);
    assert_false(s.readonly_rootfs);
    assert_int_equal(s.ns_new, 0);
    assert_int_equal(s.network, CM_NET_HOST);
    assert_int_equal(s.cap_bounding | s.cap_effective | s.cap_permitted, 0);
    assert_int_equal(s.resources.memory_limit, -1);
    assert_int_equal(s.resources.pids_limit, -1);
    assert_null(s.masked_paths);
    assert_null(s.env);
    assert_true(s.user_resolved);
    assert_int_equal(s.uid, 0);
    assert_string_equal(s.rootfs, "/r");
}

struct bad_case {
    const char *process; /* inserted in "process" after args and cwd */
    const char *linux;   /* inserted in "linux" */
    const char *top;     /* inserted at top level */
    const char *expect;  /* substring of the error */
};

static const struct bad_case bad_cases[] = {
    {",\"user\":{\"uid\":\"0\"}", "", "",
     "config.json: process.user.uid: expected an unsigned integer, got a string"},
    {",\"user\":{\"uid\":-1}", "", "", "config.json: process.user.uid: expected an unsigned integer"},
    {",\"user\":{\"uid\":4294967296}", "", "", "process.user.uid: 4294967296 is out of range"},
    {",\"user\":{\"username\":\"root\"}", "", "", "config.json: process.user.username is not supported"},
    {",\"terminal\":\"yes\"", "", "", "config.json: process.terminal: expected true or false"},
    {",\"capabilities\":{\"bounding\":[\"CAP_FOO\"]}", "", "",
     "config.json: process.capabilities.bounding[0]: unknown capability \"CAP_FOO\""},
    {",\"capabilities\":{\"bounding\":\"CAP_KILL\"}", "", "",
     "process.capabilities.bounding: expected an array"},
    {",\"capabilities\":{\"all\":[]}", "", "", "process.capabilities.all: unknown field"},
    {",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"hard\":1,\"soft\":1}]", "", "",
     "process.rlimits[0].type: unknown resource limit \"RLIMIT_BOGUS\""},
    {",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":2}]", "", "",
     "process.rlimits[0]: soft limit 2 is above the hard limit 1"},
    {",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":1},"
     "{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":1}]", "", "", "process.rlimits[1].type: RLIMIT_NOFILE is given twice"},
    {",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1}]", "", "", "process.rlimits[0].hard: missing"},
    {",\"oomScoreAdj\":1001", "", "", "process.oomScoreAdj: 1001 is out of range (-1000 to 1000)"},
    {",\"scheduler\":{\"policy\":\"SCHED_FIFO\"}", "", "", "config.json: process.scheduler is not supported by casemate"},
    {",\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\"}", "", "", "process.ioPriority is not supported by casemate"},
    {",\"env\":[\"NOEQUALS\"]", "", "", "process.env[0]: \"NOEQUALS\" is not of the form KEY=VALUE"},
    {",\"env\":[\"A=\\u0000B\"]", "", "", "process.env[0]: string contains a NUL byte"},
    {",\"foo\":1", "", "", "config.json: process.foo: unknown field"},
    {"", "", ",\"foo\":1", "config.json: foo: unknown field"},
    {"", "", ",\"windows\":{\"layerFolders\":[]}", "config.json: windows: unknown field"},
    {"", "\"bar\":1", "", "config.json: linux.bar: unknown field"},
    {"", "\"intelRdt\":{\"closID\":\"x\"}", "", "config.json: linux.intelRdt is not supported by casemate"},
    {"", "\"personality\":{\"domain\":\"LINUX32\"}", "", "config.json: linux.personality is not supported by casemate"},
    {"", "\"netDevices\":{\"eth0\":{}}", "", "config.json: linux.netDevices is not supported by casemate"},
    {"", "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\"}", "", "linux.memoryPolicy is not supported by casemate"},
    {"", "\"timeOffsets\":{\"monotonic\":{\"secs\":1}}", "", "config.json: linux.timeOffsets is not supported by casemate yet"},
    {"", "\"resources\":{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":1}]}", "",
     "config.json: linux.resources.hugepageLimits is not supported by casemate"},
    {"", "\"resources\":{\"unified\":{\"memory.max\":\"1\"}}", "", "linux.resources.unified is not supported by casemate"},
    {"", "\"resources\":{\"rdma\":{\"mlx\":{}}}", "", "linux.resources.rdma is not supported by casemate"},
    {"", "\"resources\":{\"network\":{\"classID\":1}}", "", "linux.resources.network is not supported by casemate"},
    {"", "\"resources\":{\"memory\":{\"swappiness\":60}}", "", "linux.resources.memory.swappiness is not supported"},
    {"", "\"resources\":{\"memory\":{\"limit\":\"1g\"}}", "", "linux.resources.memory.limit: expected an integer"},
    {"", "\"resources\":{\"memory\":{\"limit\":18446744073709551615}}", "",
     "linux.resources.memory.limit: 18446744073709551615 is out of range"},
    {",\"apparmorProfile\":18446744073709551615", "", "", "process.apparmorProfile: expected a string, got an integer"},
    {",\"user\":{\"uid\":18446744073709551615}", "", "", "process.user.uid: 18446744073709551615 is out of range (0 to 4294967295)"},
    {"", "\"resources\":{\"memory\":{\"limit\":100,\"swap\":50}}", "", "linux.resources.memory: swap (50) must not be below limit"},
    {"", "\"resources\":{\"cpu\":{\"cpus\":\"all\"}}", "", "linux.resources.cpu.cpus: \"all\" is not a list"},
    {"", "\"resources\":{\"blockIO\":{\"weight\":5}}", "", "linux.resources.blockIO.weight: 5 is out of range"},
    {"", "\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}", "", "linux.resources.devices[0].allow: missing"},
    {"", "\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}", "", "linux.resources.devices[0].access: \"rwx\""},
    {"", "\"devices\":[{\"type\":\"c\",\"path\":\"/etc/passwd\",\"major\":1,\"minor\":3}]", "",
     "linux.devices[0].path: \"/etc/passwd\" is not a path under /dev"},
    {"", "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/../etc/x\",\"major\":1,\"minor\":3}]", "", "is not a path under /dev"},
    {"", "\"devices\":[{\"type\":\"c\",\"path\":\"/dev/null\"}]", "", "linux.devices[0].major: missing"},
    {"", "\"namespaces\":[{\"type\":\"bogus\"}]", "", "linux.namespaces[0].type: unknown namespace type \"bogus\""},
    {"", "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]", "", "linux.namespaces[1].type: namespace \"pid\" is given twice"},
    {"", "\"namespaces\":[{\"type\":\"net\",\"path\":\"x\"}]", "", "unknown namespace type \"net\""},
    {"", "\"namespaces\":[{\"type\":\"network\",\"path\":\"proc/1/ns/net\"}]", "", "linux.namespaces[0].path: \"proc/1/ns/net\" is not an absolute path"},
    {"", "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]", "",
     "linux.uidMappings: mappings need a new user namespace"},
    {"", "\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]", "",
     "config.json: linux.gidMappings: missing while uidMappings is given"},
    {"", "\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]", "",
     "linux.uidMappings: mappings cannot be given for a joined user namespace"},
    {"", "\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":4294967295,\"size\":2}]", "",
     "linux.uidMappings[0]: the range goes past 4294967295"},
    {"", "\"rootfsPropagation\":\"sideways\"", "", "linux.rootfsPropagation: \"sideways\" is not one of"},
    {"", "\"maskedPaths\":[\"proc/kcore\"]", "", "linux.maskedPaths[0]: \"proc/kcore\" is not an absolute path"},
    {"", "\"sysctl\":{\"net.ipv4.ip_forward\":1}", "", "linux.sysctl.net.ipv4.ip_forward: expected a string"},
    {"", "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "", "config.json: linux.seccomp"},
    {"", "", ",\"hostname\":\"h\"", "config.json: hostname: setting it needs a new uts namespace"},
    {"", "", ",\"hostname\":\"a b\"", "hostname: \"a b\" is not a valid host name"},
    {"", "", ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"rro\"]}]",
     "config.json: mounts[0].options[0]: the recursive mount attribute \"rro\" is not supported"},
    {"", "", ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"tmpcopyup\"]}]",
     "mounts[0].options[0]: \"tmpcopyup\" (a crun/runc extension) is not supported by casemate"},
    {"", "", ",\"mounts\":[{\"destination\":\"/x\",\"source\":\"/y\",\"type\":\"bind\",\"options\":[\"rbind\",\"nosiud\"]}]",
     "mounts[0].options: \"nosiud\" has no meaning for a bind mount"},
    {"", "", ",\"mounts\":[{\"destination\":\"x\",\"type\":\"tmpfs\"}]", "mounts[0].destination: \"x\" is not an absolute path"},
    {"", "", ",\"mounts\":[{\"destination\":\"/x\"}]", "mounts[0]: no type given and not a bind mount"},
    {"", "", ",\"mounts\":[{\"destination\":\"/x\",\"options\":[\"bind\"]}]", "mounts[0]: a bind mount needs a source"},
    {"", "", ",\"mounts\":[{\"destination\":\"/x\",\"source\":\"/y\",\"options\":[\"bind\",\"idmap\"]}]",
     "mounts[0].options: the idmap option needs a user namespace"},
    {"", "", ",\"mounts\":{}", "config.json: mounts: expected an array, got an object"},
    {"", "", ",\"hooks\":{\"prestart\":[{\"path\":\"hook\"}]}", "hooks.prestart[0].path: \"hook\" is not an absolute path"},
    {"", "", ",\"hooks\":{\"preStart\":[]}", "config.json: hooks.preStart: unknown field"},
    {"", "", ",\"hooks\":{\"poststop\":[{\"path\":\"/h\",\"timeout\":0}]}", "hooks.poststop[0].timeout: 0 is out of range"},
    {"", "", ",\"annotations\":{\"a\":1}", "config.json: annotations.a: expected a string, got an integer"},
    {"", "", ",\"root\":{\"path\":\"r\",\"readonly\":1}", "root.readonly: expected true or false, got an integer"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char json[4096];
        bool has_root = strstr(c->top, "\"root\"") != NULL;
        snprintf(json, sizeof(json),
                 "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"%s},"
                 "%s\"linux\":{%s}%s}",
                 c->process, has_root ? "" : "\"root\":{\"path\":\"rootfs\"},", c->linux, c->top);
        _cleanup_spec_ struct cm_spec s;
        struct cm_error err = {0};
        int r = parse(json, "/b", &s, &err);
        if (r != -1 || !strstr(err.msg, c->expect))
            fail_msg("case %zu: %s\n  got r=%d \"%s\"\n  want \"%s\"", i, json, r, err.msg, c->expect);
    }
}

static const char *const bad_documents[][2] = {
    {"", "config.json: invalid JSON at line"},
    {"[]", "config.json: expected a JSON object, got an array"},
    {"{\"ociVersion\":\"1.2.0\",\"ociVersion\":\"1.2.0\"}", "invalid JSON"},
    {"{\"process\":{}}", "config.json: ociVersion: missing"},
    {"{\"ociVersion\":\"2.0.0\"}", "config.json: ociVersion: version 2.0.0 is not supported"},
    {"{\"ociVersion\":\"1.3.0\"}", "ociVersion: version 1.3.0 is not supported"},
    {"{\"ociVersion\":\"1.0.0-rc5\"}", "ociVersion: version 1.0.0-rc5 is not supported"},
    {"{\"ociVersion\":\"v1\"}", "ociVersion: \"v1\" is not a version"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"}}", "config.json: linux: missing"},
    {"{\"ociVersion\":\"1.2.0\",\"linux\":{}}", "config.json: root: missing"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},\"process\":{\"cwd\":\"/\"}}",
     "config.json: process.args: missing"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},\"process\":{\"args\":[],\"cwd\":\"/\"}}",
     "config.json: process.args: empty"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},\"process\":{\"args\":[\"a\"]}}",
     "config.json: process.cwd: missing"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},\"process\":{\"args\":[\"a\"],\"cwd\":\"x\"}}",
     "process.cwd: \"x\" is not an absolute path"},
    {"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},\"process\":{\"args\":[\"a\"],\"cwd\":\"/\","
     "\"rlimits\":[{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551616,\"soft\":0}]}}",
     "invalid JSON"},
};

static void test_bad_documents(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_documents) / sizeof(bad_documents[0]); i++) {
        _cleanup_spec_ struct cm_spec s;
        struct cm_error err = {0};
        int r = parse(bad_documents[i][0], "/b", &s, &err);
        if (r != -1 || !strstr(err.msg, bad_documents[i][1]))
            fail_msg("doc %zu: got r=%d \"%s\", want \"%s\"", i, r, err.msg, bad_documents[i][1]);
    }
}

/* Fields engines send empty, and versions they write, are accepted. */
static void test_tolerated(void **state)
{
    (void)state;
    static const char *const docs[] = {
        ("{\"ociVersion\":\"1.0.2-dev\",\"root\":{\"path\":\"r\"},\"linux\":{\"intelRdt\":{},"
        "\"timeOffsets\":{},\"resources\":{\"unified\":{},\"hugepageLimits\":[],"
        "\"memory\":{\"swappiness\":null,\"disableOOMKiller\":false},\"blockIO\":{\"weight\":0}},"
        "\"mountLabel\":\"\",\"cgroupsPath\":\"\"},\"windows\":null,\"vm\":{}}"),
        ("{\"ociVersion\":\"1.1.0+dev\",\"root\":{\"path\":\"r\"},\"linux\":{},"
        "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"selinuxLabel\":\"\",\"apparmorProfile\":\"\","
        "\"scheduler\":null,\"user\":{\"username\":\"\"}}}"),
        ("{\"ociVersion\":\"1.2.1\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":"
        "[{\"type\":\"user\"},{\"type\":\"mount\"}],\"uidMappings\":[{\"containerID\":0,"
        "\"hostID\":1000,\"size\":1}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]},"
        "\"mounts\":[{\"destination\":\"/x\",\"source\":\"/y\",\"type\":\"none\",\"options\":"
        "[\"rbind\",\"ridmap\"],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}]}"),
        /* crun spec --rootless: a user namespace without mappings. */
        ("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":"
        "[{\"type\":\"user\"},{\"type\":\"mount\"}]}}"),
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        _cleanup_spec_ struct cm_spec s;
        struct cm_error err = {0};
        if (parse(docs[i], NULL, &s, &err) != 0)
            fail_msg("doc %zu: %s", i, err.msg);
    }
    /* Per-mount mappings other than the container's own are refused. */
    _cleanup_spec_ struct cm_spec s;
    struct cm_error err = {0};
    const char *other =
        "{\"ociVersion\":\"1.2.1\",\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":"
        "[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
        "\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]},\"mounts\":[{"
        "\"destination\":\"/x\",\"source\":\"/y\",\"options\":[\"bind\",\"idmap\"],"
        "\"gidMappings\":[{\"containerID\":0,\"hostID\":2000,\"size\":1}]}]}";
    assert_int_equal(parse(other, NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "config.json: mounts[0].gidMappings: differs from linux.gidMappings"));
}

/* The default config is casemate's hardened spec, and reads back as one. */
static void test_default_round_trip(void **state)
{
    (void)state;
    struct cm_error err = {0};
    _cleanup_free_ char *json = cm_oci_spec_default_json(&err);
    if (!json)
        fail_msg("%s", err.msg);
    _cleanup_spec_ struct cm_spec s;
    if (parse(json, "/b", &s, &err) != 0)
        fail_msg("%s", err.msg);
    _cleanup_spec_ struct cm_spec def;
    assert_int_equal(cm_spec_init_defaults(&def), 0);

    assert_int_equal(s.ns_new, def.ns_new);
    assert_true(s.ns_new & CM_NS_USER);
    assert_int_equal(s.network, CM_NET_NONE);
    assert_int_equal(s.cap_bounding | s.cap_effective | s.cap_permitted | s.cap_inheritable |
                         s.cap_ambient, 0);
    assert_true(s.no_new_privs);
    assert_true(s.readonly_rootfs);
    assert_string_equal(s.rootfs, "/b/rootfs");
    assert_string_equal(s.cwd, def.cwd);
    assert_string_equal(s.env[0], def.env[0]);
    assert_int_equal(s.uid, 0);
    assert_int_equal(s.n_uid_map, 1);
    assert_int_equal(s.uid_map[0].container_id, 0);
    assert_int_equal(s.uid_map[0].size, 65536);
    assert_true(s.uid_map[0].host_id > 0);
    assert_memory_equal(s.uid_map, s.gid_map, sizeof(*s.uid_map));
    assert_int_equal(s.resources.memory_limit, CM_DEFAULT_MEMORY_LIMIT);
    assert_int_equal(s.resources.pids_limit, CM_DEFAULT_PIDS_LIMIT);
    for (size_t i = 0; cm_default_masked_paths[i]; i++)
        assert_string_equal(s.masked_paths[i], cm_default_masked_paths[i]);
    assert_int_equal(cm_strv_len(s.masked_paths), cm_strv_len((char *const *)cm_default_masked_paths));
    for (size_t i = 0; cm_default_readonly_paths[i]; i++)
        assert_string_equal(s.readonly_paths[i], cm_default_readonly_paths[i]);
    const struct cm_mount *m = find_mount(&s, "/tmp");
    assert_non_null(m);
    assert_string_equal(m->type, "tmpfs");
    assert_true(m->flags & MS_NOSUID);
    assert_true(m->flags & MS_NODEV);
    char size[64];
    snprintf(size, sizeof(size), "size=%llu", (unsigned long long)CM_DEFAULT_TMP_SIZE);
    assert_non_null(strstr(m->data, size));
    m = find_mount(&s, "/run");
    assert_non_null(m);
    assert_non_null(strstr(m->data, size));
    m = find_mount(&s, "/sys");
    assert_true(m->flags & MS_RDONLY);
    bool nofile = false, core = false;
    for (size_t i = 0; i < s.n_rlimits; i++) {
        nofile |= s.rlimits[i].resource == RLIMIT_NOFILE && s.rlimits[i].hard == 1024;
        core |= s.rlimits[i].resource == RLIMIT_CORE && s.rlimits[i].hard == 0;
    }
    assert_true(nofile && core);
    assert_int_equal(s.n_devices, 1);
    assert_false(s.devices[0].allow);
    assert_int_equal(s.devices[0].type, 'a');

    /* The default seccomp profile, with Docker-style conditions resolved for
     * an empty capability set on this architecture. */
    struct cm_seccomp_profile *p = NULL;
    assert_int_equal(cm_seccomp_profile_default(&p, &err), 0);
    assert_false(s.seccomp_unconfined);
    assert_non_null(s.seccomp);
    assert_int_equal(s.seccomp->default_action, p->default_action);
    size_t applicable = 0;
    for (size_t i = 0; i < p->n_rules; i++) {
        const struct cm_scmp_rule *r = &p->rules[i];
        bool arch_ok = true;
        if (r->include_arches && r->include_arches[0]) {
            arch_ok = false;
            for (char **a = r->include_arches; *a; a++)
                arch_ok |= !strcmp(*a, "amd64");
        }
        for (char **a = r->exclude_arches; a && *a; a++)
            arch_ok &= strcmp(*a, "amd64") != 0;
        if (!(r->has_include_caps && r->include_caps) && arch_ok)
            applicable++;
    }
#if defined(__x86_64__) && !defined(__ILP32__)
    assert_int_equal(s.seccomp->n_rules, applicable);
#endif
    assert_true(s.seccomp->n_rules > 0);
    assert_true(has_syscall(s.seccomp, "execve", CM_SCMP_ALLOW));
    assert_false(has_syscall(s.seccomp, "keyctl", CM_SCMP_ALLOW));
    cm_seccomp_profile_free(p);

    if (cm_spec_validate(&s, &err) != 0)
        fail_msg("%s", err.msg);

    /* Writing the parsed spec gives the same text: nothing was lost. */
    free(s.rootfs);
    s.rootfs = strdup("rootfs");
    _cleanup_free_ char *again = cm_oci_spec_to_json(&s, &err);
    assert_non_null(again);
    assert_string_equal(again, json);
}

/* Realistic configs survive write-then-read unchanged. */
static void test_fixtures_round_trip(void **state)
{
    (void)state;
    const char *const fixtures[] = {runc_spec_json, docker_run_json};
    for (size_t i = 0; i < 2; i++) {
        _cleanup_spec_ struct cm_spec a, b;
        struct cm_error err = {0};
        assert_int_equal(parse(fixtures[i], NULL, &a, &err), 0);
        _cleanup_free_ char *first = cm_oci_spec_to_json(&a, &err);
        if (!first)
            fail_msg("%s", err.msg);
        if (parse(first, NULL, &b, &err) != 0)
            fail_msg("fixture %zu rewritten: %s\n%s", i, err.msg, first);
        _cleanup_free_ char *second = cm_oci_spec_to_json(&b, &err);
        assert_non_null(second);
        assert_string_equal(first, second);
        assert_int_equal(a.n_mounts, b.n_mounts);
        assert_int_equal(a.n_devices, b.n_devices);
        assert_int_equal(a.cap_bounding, b.cap_bounding);
        assert_int_equal(a.ns_new, b.ns_new);
    }
    /* 2^64-1 is written back as the literal number. */
    _cleanup_spec_ struct cm_spec d;
    struct cm_error err = {0};
    assert_int_equal(parse(docker_run_json, NULL, &d, &err), 0);
    _cleanup_free_ char *text = cm_oci_spec_to_json(&d, &err);
    assert_non_null(strstr(text, "\"hard\": 18446744073709551615"));
}

/* Only integer literals are rewritten: digits inside strings, next to
 * escaped quotes, and numbers with a fraction or exponent stay as written. */
static void test_big_integer_lexer(void **state)
{
    (void)state;
    const char *json =
        "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},"
        "\"annotations\":{\"a\":\"18446744073709551615\",\"b\":\"x\\\"18446744073709551615\","
        "\"c\":\"\\\\\"},"
        "\"process\":{\"args\":[\"18446744073709551615\"],\"cwd\":\"/\",\"rlimits\":["
        "{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":9223372036854775808},"
        "{\"type\":\"RLIMIT_NOFILE\",\"hard\":9223372036854775807,\"soft\":0}]}}";
    _cleanup_spec_ struct cm_spec s;
    struct cm_error err = {0};
    if (parse(json, NULL, &s, &err) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(s.annotations[0].value, "18446744073709551615");
    assert_string_equal(s.annotations[1].value, "x\"18446744073709551615");
    assert_string_equal(s.annotations[2].value, "\\");
    assert_string_equal(s.args[0], "18446744073709551615");
    assert_true(s.rlimits[0].hard == UINT64_MAX);
    assert_true(s.rlimits[0].soft == 9223372036854775808ULL);
    assert_true(s.rlimits[1].hard == 9223372036854775807ULL);
    /* A real string holding the marker is not a number, anywhere. */
    _cleanup_spec_ struct cm_spec t;
    const char *fake = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},"
                       "\"hostname\":\"\\u00001\"}";
    assert_int_equal(parse(fake, NULL, &t, &err), -1);
    assert_non_null(strstr(err.msg, "hostname: expected a string, got an integer"));
    _cleanup_spec_ struct cm_spec u;
    const char *exp = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"r\"},\"linux\":{},"
                      "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
                      "\"RLIMIT_CORE\",\"hard\":1e19,\"soft\":0}]}}";
    assert_int_equal(parse(exp, NULL, &u, &err), -1);
    assert_non_null(strstr(err.msg, "process.rlimits[0].hard: expected an unsigned integer"));
}

static void test_rootless_defaults(void **state)
{
    (void)state;
    _cleanup_spec_ struct cm_spec s;
    struct cm_error err = {0};
    memset(&s, 0, sizeof(s));
    assert_int_equal(cm_oci_spec_defaults(&s, true, &err), 0);
    assert_int_equal(s.n_uid_map, 1);
    assert_int_equal(s.uid_map[0].host_id, geteuid());
    assert_int_equal(s.uid_map[0].size, 1);
    assert_int_equal(s.resources.pids_limit, -1);
    const struct cm_mount *m = find_mount(&s, "/dev/pts");
    assert_null(strstr(m->data, "gid="));
    _cleanup_free_ char *json = cm_oci_spec_to_json(&s, &err);
    _cleanup_spec_ struct cm_spec back;
    if (parse(json, NULL, &back, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(back.no_new_privs);
}

static void test_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/oci-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/config.json", dir);
    struct cm_error err = {0};
    _cleanup_spec_ struct cm_spec s;
    memset(&s, 0, sizeof(s));
    /* Missing file: the error names it. */
    int r = cm_oci_spec_load(dir, &s, &err);
    bool missing_ok = r == -1 && strstr(err.msg, "config.json") && err.errnum == ENOENT;
    FILE *f = fopen(path, "w");
    bool wrote = f && fputs(runc_spec_json, f) >= 0;
    if (f)
        fclose(f);
    cm_spec_free(&s);
    r = wrote ? cm_oci_spec_load(dir, &s, &err) : -1;
    char want[128];
    snprintf(want, sizeof(want), "%s/rootfs", dir);
    bool loaded = r == 0 && s.rootfs && !strcmp(s.rootfs, want);
    unlink(path);
    rmdir(dir);
    assert_true(missing_ok);
    if (!loaded)
        fail_msg("load: r=%d %s", r, err.msg);
}

/* Every seed of the fuzz corpus is a real config: runc and crun `spec`
 * output, what dockerd 20.10 and containerd 1.6 (ctr run) wrote for busybox
 * runs here with the seed flags, casemate's own default. All must parse. */
static void test_corpus_configs_parse(void **state)
{
    (void)state;
    char here[] = __FILE__;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/../fuzz/corpus/fuzz_oci_config", dirname(here));
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        fail_msg("opening %s: %s", dir, strerror(errno));
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        assert_non_null(f);
        static char buf[1 << 20];
        size_t got = fread(buf, 1, sizeof(buf) - 1, f);
        buf[got] = '\0';
        _cleanup_spec_ struct cm_spec s;
        struct cm_error err = {0};
        if (parse(buf, "/b", &s, &err) != 0)
            fail_msg("%s: %s", e->d_name, err.msg);
        n++;
    }
    assert_true(n >= 5);
}

static void test_features(void **state)
{
    (void)state;
    struct cm_error err = {0};
    _cleanup_free_ char *text = cm_oci_features_json(false, false, &err);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"ociVersionMin\": \"1.0.0\""));
    assert_non_null(strstr(text, "\"CAP_SYS_ADMIN\""));
    assert_non_null(strstr(text, "\"SCMP_ACT_NOTIFY\""));
    assert_non_null(strstr(text, "\"rbind\""));
    assert_non_null(strstr(text, "\"createContainer\""));
    assert_non_null(strstr(text, "\"systemd\": false"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runc_like),
        cmocka_unit_test(test_docker_like),
        cmocka_unit_test(test_minimal_as_written),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_tolerated),
        cmocka_unit_test(test_default_round_trip),
        cmocka_unit_test(test_fixtures_round_trip),
        cmocka_unit_test(test_big_integer_lexer),
        cmocka_unit_test(test_rootless_defaults),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_corpus_configs_parse),
        cmocka_unit_test(test_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
