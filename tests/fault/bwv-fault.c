/* bwv-fault: an LD_PRELOAD shim that makes I/O on some files fail, for tests/e2e/faults.sh.
 *
 * Built as build/tests/libbwv-fault.so (tests/CMakeLists.txt). Every call below is checked
 * against the file its descriptor names (readlink of /proc/self/fd/N); a call on a file whose
 * absolute path starts with BWV_FAULT_PATH may be made to fail. Environment:
 *
 *   BWV_FAULT_PATH         path prefix of the files to fail (required; unset: the shim does nothing)
 *   BWV_FAULT_OPS          comma-separated calls to fail: write (write, writev), pwrite (pwrite,
 *                          pwritev), fsync (fsync, fdatasync), syncfs, read (read, readv), pread
 *                          (pread, preadv); default write,pwrite,fsync
 *   BWV_FAULT_ERRNO        ENOSPC (default), EIO, EROFS, EDQUOT, EACCES, EINVAL, or a number
 *   BWV_FAULT_AFTER_BYTES  fail once this many bytes have gone through the chosen calls on such
 *                          files (a call that crosses the limit is cut short there, as a full disk
 *                          does; fsync and syncfs fail once the limit is reached)
 *   BWV_FAULT_NTH          fail the Nth chosen call on such files (counting from 1), and every
 *                          one after it (up to BWV_FAULT_COUNT)
 *   BWV_FAULT_COUNT        fail at most this many calls, then let the rest through (default: no limit)
 *   BWV_FAULT_ODIRECT      1: only descriptors opened for direct I/O (O_DIRECT set) count; with
 *                          BWV_FAULT_ERRNO=EINVAL, a filesystem that refuses direct writes after
 *                          all. (A write() cut short on such a descriptor, as BWV_FAULT_AFTER_BYTES
 *                          does, goes through the page cache, so that it may end mid-block.)
 *   BWV_FAULT_LOG          append one line per failure, "bwv-fault: PID CALL PATH ERRNO", and per
 *                          call cut short, "bwv-fault: PID CALL PATH cut to N of M bytes"
 *
 * Without BWV_FAULT_AFTER_BYTES or BWV_FAULT_NTH every chosen call on such a file fails. Counters
 * are per process and shared by its threads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_WRITE = 1, OP_PWRITE = 2, OP_FSYNC = 4, OP_SYNCFS = 8, OP_READ = 16, OP_PREAD = 32 };

static int g_enabled;
static char g_prefix[4096];
static size_t g_prefix_len;
static int g_ops = OP_WRITE | OP_PWRITE | OP_FSYNC;
static int g_errno = ENOSPC;
static long long g_after = -1;
static long long g_nth = 0;
static long long g_count = -1;
static int g_direct_only;
static char g_log[4096];

static long long g_bytes;    /* bytes through chosen calls on matching files */
static long long g_calls;    /* chosen calls on matching files */
static long long g_failures; /* failures injected (counted only with BWV_FAULT_COUNT) */

static ssize_t (*real_write)(int, const void*, size_t);
static ssize_t (*real_writev)(int, const struct iovec*, int);
static ssize_t (*real_pwrite)(int, const void*, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void*, size_t, off_t);
static ssize_t (*real_pwritev)(int, const struct iovec*, int, off_t);
static ssize_t (*real_read)(int, void*, size_t);
static ssize_t (*real_readv)(int, const struct iovec*, int);
static ssize_t (*real_pread)(int, void*, size_t, off_t);
static ssize_t (*real_pread64)(int, void*, size_t, off_t);
static ssize_t (*real_preadv)(int, const struct iovec*, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);

static int parse_errno(const char* s) {
  static const struct { const char* name; int value; } names[] = {
      {"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT}, {"EACCES", EACCES},
      {"EINVAL", EINVAL}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (strcmp(s, names[i].name) == 0) return names[i].value;
  int v = atoi(s);
  return v > 0 ? v : ENOSPC;
}

static int parse_ops(const char* s) {
  int ops = 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  for (char* save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
    if (!strcmp(t, "write")) ops |= OP_WRITE;
    else if (!strcmp(t, "pwrite")) ops |= OP_PWRITE;
    else if (!strcmp(t, "fsync")) ops |= OP_FSYNC;
    else if (!strcmp(t, "syncfs")) ops |= OP_SYNCFS;
    else if (!strcmp(t, "read")) ops |= OP_READ;
    else if (!strcmp(t, "pread")) ops |= OP_PREAD;
    else {
      static const char msg[] = "bwv-fault: unknown call in BWV_FAULT_OPS\n";
      syscall(SYS_write, 2, msg, sizeof msg - 1);
      _exit(99);
    }
  }
  return ops;
}

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

static void resolve_all(void) {
  RESOLVE(write);
  RESOLVE(writev);
  RESOLVE(pwrite);
  RESOLVE(pwrite64);
  RESOLVE(pwritev);
  RESOLVE(read);
  RESOLVE(readv);
  RESOLVE(pread);
  RESOLVE(pread64);
  RESOLVE(preadv);
  RESOLVE(fsync);
  RESOLVE(fdatasync);
  RESOLVE(syncfs);
}

/* Another library's constructor may call in before ours has run. */
#define REAL(name) (real_##name ? real_##name : (resolve_all(), real_##name))

__attribute__((constructor)) static void bwv_fault_init(void) {
  resolve_all();
  const char* p = getenv("BWV_FAULT_PATH");
  if (!p || !*p) return;
  snprintf(g_prefix, sizeof g_prefix, "%s", p);
  g_prefix_len = strlen(g_prefix);
  const char* v;
  if ((v = getenv("BWV_FAULT_OPS")) && *v) g_ops = parse_ops(v);
  if ((v = getenv("BWV_FAULT_ERRNO")) && *v) g_errno = parse_errno(v);
  if ((v = getenv("BWV_FAULT_AFTER_BYTES")) && *v) g_after = atoll(v);
  if ((v = getenv("BWV_FAULT_NTH")) && *v) g_nth = atoll(v);
  if ((v = getenv("BWV_FAULT_COUNT")) && *v) g_count = atoll(v);
  if ((v = getenv("BWV_FAULT_ODIRECT")) && *v) g_direct_only = atoi(v) == 1;
  if ((v = getenv("BWV_FAULT_LOG")) && *v) snprintf(g_log, sizeof g_log, "%s", v);
  g_enabled = 1;
}

/* The file behind fd, if it is under the prefix; path receives it. */
static int matches(int fd, char* path, size_t size) {
  if (!g_enabled || fd < 0) return 0;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, size - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  if (strncmp(path, g_prefix, g_prefix_len) != 0) return 0;
  return !g_direct_only || (fcntl(fd, F_GETFL) & O_DIRECT);
}

/* One line per fault: a failure ("... No space left on device") or a call cut short ("... cut to N of M bytes"). */
static void log_fault(const char* call, const char* path, const char* what) {
  if (!g_log[0]) return;
  const int fd = (int)syscall(SYS_open, g_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[4400];
  const int n = snprintf(line, sizeof line, "bwv-fault: %d %s %s %s\n", (int)getpid(), call, path, what);
  if (n > 0) syscall(SYS_write, fd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
  syscall(SYS_close, fd);
}

/* Decides a call: returns -1 to fail it (errno set), else how many of size bytes may go through. */
static long long decide(int op, int fd, size_t size, const char* call) {
  char path[4096];
  if (!(g_ops & op) || !matches(fd, path, sizeof path)) return (long long)size;
  const long long call_no = __atomic_add_fetch(&g_calls, 1, __ATOMIC_SEQ_CST);
  int fail = 0;
  long long allowed = (long long)size;
  if (g_nth > 0) {
    fail = call_no >= g_nth;
  } else if (g_after >= 0) {
    const long long before = __atomic_load_n(&g_bytes, __ATOMIC_SEQ_CST);
    if (before >= g_after) fail = 1;
    else if ((op & (OP_FSYNC | OP_SYNCFS)) == 0 && before + (long long)size > g_after) allowed = g_after - before;
  } else {
    fail = 1;
  }
  if (fail && g_count >= 0 && __atomic_add_fetch(&g_failures, 1, __ATOMIC_SEQ_CST) > g_count) fail = 0;
  if (fail) {
    log_fault(call, path, strerror(g_errno));
    errno = g_errno;
    return -1;
  }
  if (allowed < (long long)size) {
    char what[80];
    snprintf(what, sizeof what, "cut to %lld of %zu bytes", allowed, size);
    log_fault(call, path, what);
  }
  if ((op & (OP_FSYNC | OP_SYNCFS)) == 0) __atomic_add_fetch(&g_bytes, allowed, __ATOMIC_SEQ_CST);
  return allowed;
}

static size_t iov_total(const struct iovec* iov, int n) {
  size_t t = 0;
  for (int i = 0; i < n; ++i) t += iov[i].iov_len;
  return t;
}

ssize_t write(int fd, const void* buf, size_t count) {
  const long long n = decide(OP_WRITE, fd, count, "write");
  if (n < 0) return -1;
  const int flags = (size_t)n < count ? fcntl(fd, F_GETFL) : -1;
  if (flags < 0 || !(flags & O_DIRECT)) return REAL(write)(fd, buf, (size_t)n);
  /* Cut short on a direct descriptor: written through the page cache, so that any count comes
     back, a block's end or not, as from a filesystem that stops mid-block. */
  fcntl(fd, F_SETFL, flags & ~O_DIRECT);
  const ssize_t w = REAL(write)(fd, buf, (size_t)n);
  const int saved = errno;
  fcntl(fd, F_SETFL, flags);
  errno = saved;
  return w;
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  const size_t total = iov_total(iov, cnt);
  const long long n = decide(OP_WRITE, fd, total, "writev");
  if (n < 0) return -1;
  if ((size_t)n < total) { /* cut short: write the allowed part of the first buffers */
    ssize_t done = 0;
    long long left = n;
    for (int i = 0; i < cnt && left > 0; ++i) {
      const size_t len = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
      const ssize_t w = REAL(write)(fd, iov[i].iov_base, len);
      if (w < 0) return done ? done : -1;
      done += w;
      left -= w;
      if ((size_t)w < len) break;
    }
    return done;
  }
  return REAL(writev)(fd, iov, cnt);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  const long long n = decide(OP_PWRITE, fd, count, "pwrite");
  if (n < 0) return -1;
  return REAL(pwrite)(fd, buf, (size_t)n, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  const long long n = decide(OP_PWRITE, fd, count, "pwrite");
  if (n < 0) return -1;
  return (REAL(pwrite64) ? real_pwrite64 : REAL(pwrite))(fd, buf, (size_t)n, offset);
}

ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t offset) {
  if (decide(OP_PWRITE, fd, iov_total(iov, cnt), "pwritev") < 0) return -1;
  return REAL(pwritev)(fd, iov, cnt, offset);
}

ssize_t read(int fd, void* buf, size_t count) {
  const long long n = decide(OP_READ, fd, count, "read");
  if (n < 0) return -1;
  return REAL(read)(fd, buf, (size_t)n);
}

ssize_t readv(int fd, const struct iovec* iov, int cnt) {
  if (decide(OP_READ, fd, iov_total(iov, cnt), "readv") < 0) return -1;
  return REAL(readv)(fd, iov, cnt);
}

ssize_t pread(int fd, void* buf, size_t count, off_t offset) {
  const long long n = decide(OP_PREAD, fd, count, "pread");
  if (n < 0) return -1;
  return REAL(pread)(fd, buf, (size_t)n, offset);
}

ssize_t pread64(int fd, void* buf, size_t count, off_t offset) {
  const long long n = decide(OP_PREAD, fd, count, "pread");
  if (n < 0) return -1;
  return (REAL(pread64) ? real_pread64 : REAL(pread))(fd, buf, (size_t)n, offset);
}

ssize_t preadv(int fd, const struct iovec* iov, int cnt, off_t offset) {
  if (decide(OP_PREAD, fd, iov_total(iov, cnt), "preadv") < 0) return -1;
  return REAL(preadv)(fd, iov, cnt, offset);
}

int fsync(int fd) {
  if (decide(OP_FSYNC, fd, 0, "fsync") < 0) return -1;
  return REAL(fsync)(fd);
}

int fdatasync(int fd) {
  if (decide(OP_FSYNC, fd, 0, "fdatasync") < 0) return -1;
  return REAL(fdatasync)(fd);
}

int syncfs(int fd) {
  if (decide(OP_SYNCFS, fd, 0, "syncfs") < 0) return -1;
  return REAL(syncfs)(fd);
}
