/* selfexe.c: see selfexe.h. */
#include "sandbox/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

extern char **environ;

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool cm_selfexe_is_sealed(void)
{
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & SEALS) == SEALS;
}

int cm_selfexe_ensure_sealed(char **argv, struct cm_error *err)
{
    if (cm_selfexe_is_sealed())
        return 0;
    _cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return cm_err_sys(err, "opening /proc/self/exe to protect the casemate binary");
    struct stat st;
    if (fstat(self, &st) < 0)
        return cm_err_sys(err, "reading the casemate binary");
    _cleanup_close_ int mem = memfd_create("casemate", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mem < 0)
        return cm_err_sys(err, "creating a sealed copy of casemate (memfd_create)");
    off_t left = st.st_size;
    while (left > 0) {
        ssize_t n = sendfile(mem, self, NULL, (size_t)left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cm_err_sys(err, "copying casemate into a sealed memfd");
        }
        if (n == 0)
            return cm_err_set(err, 0, "copying casemate into a sealed memfd: short read");
        left -= n;
    }
    if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
        return cm_err_sys(err, "sealing the copy of casemate");
    fexecve(mem, argv, environ);
    return cm_err_sys(err, "re-executing casemate from its sealed copy");
}
