// Files as bwv writes them: never through a symlink, never half-written under a final name.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bwv::fs {

using Path = std::filesystem::path;

// An owned file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  void close();
  // Gives up ownership: the caller closes it.
  int release() { return std::exchange(m_fd, -1); }

private:
  int m_fd = -1;
};

enum class Kind { none, regular, directory, symlink, other };

// lstat: what is at path, without following a final symlink.
Result<Kind> kind_of(const Path& path);

// Open a regular file for reading; refuses symlinks and anything but a regular file.
Result<Fd> open_regular(const Path& path);
Result<std::uint64_t> file_size(int fd, const Path& path);

// Whole file, refusing files larger than max_bytes.
Result<std::string> read_file(const Path& path, std::uint64_t max_bytes);

Result<void> write_all(int fd, const void* data, std::size_t size, const Path& path);
// Reads up to size bytes; returns how many were read (less only at end of file).
Result<std::size_t> read_full(int fd, void* data, std::size_t size, const Path& path);

// Temp file in the same directory, fsync, rename over path, fsync the directory.
Result<void> write_file_atomic(const Path& path, std::string_view data, unsigned mode = 0644);

// A new file in a private staging directory: created (it must not exist), written, not flushed;
// the caller flushes the whole staging area before anything is renamed out of it.
Result<void> write_staged(const Path& path, std::string_view data, unsigned mode = 0644);

// Create a new file that must not exist yet (O_EXCL), write, fsync; false if it existed.
Result<bool> create_exclusive(const Path& path, std::string_view data, unsigned mode = 0644);

Result<void> fsync_path(const Path& path);
// mkdir -p of base/rel: base is the caller's (it may be reached through a link); every part of
// rel must be a real directory or absent. Each directory created has its parent fsynced.
Result<void> make_dirs(const Path& base, const Path& rel, unsigned mode = 0755);
// Names in a directory, sorted, without . and ..; a missing directory is empty.
Result<std::vector<std::string>> list_dir(const Path& path);
Result<void> remove_tree(const Path& path);
Result<void> remove_file(const Path& path);
Result<void> rename(const Path& from, const Path& to);
// Rename a directory only if nothing is at to; false if something is (the claim was lost). Where
// the filesystem cannot refuse to replace (CephFS, NFS), rename(2) still refuses a non-empty
// directory at `to` but replaces an empty one: the directories bwv claims with are never empty.
Result<bool> rename_noreplace(const Path& from, const Path& to);
// Flush every dirty page of the filesystem holding path (one flush for a batch of files).
Result<void> sync_filesystem(const Path& path);
// Starts writing [offset, offset + length) of an open file to its disk, without waiting
// (sync_file_range SYNC_FILE_RANGE_WRITE), so that a later flush of a large file finds little
// left to do. Nothing is durable until fsync: this only starts the writes sooner. A filesystem
// that cannot do it (it has no page cache of its own, say) is left to its own pace.
Result<void> start_writeback(int fd, std::uint64_t offset, std::uint64_t length, const Path& path);

// New files written as they grow, one after another, past the page cache (O_DIRECT) where the
// filesystem says it can (statx's direct-I/O alignment): whole blocks go straight from this
// buffer to the disk, and only the odd end goes through the page cache, at finish(). A large file
// nobody will read soon then costs no copy into the page cache, no dirty pages and no writeback
// work, which on a virtual machine's fresh memory is most of what writing costs (bench/pull).
// Elsewhere (tmpfs, FUSE, NFS) it is written through the page cache, its writing to disk started
// as it grows. As with any write, nothing is durable until fsync. The buffer grows to the largest
// piece and is kept from one file to the next.
class DirectWriter {
public:
  DirectWriter() = default;
  DirectWriter(DirectWriter&&) noexcept = default;
  DirectWriter& operator=(DirectWriter&&) noexcept = default;
  // Creates path (it must not exist; a final symlink is not followed). A file not finished is
  // abandoned first.
  Result<void> create(const Path& path, unsigned mode = 0644);
  // Room for the next n bytes, valid until commit: the caller fills it and commits.
  Result<unsigned char*> space(std::size_t n);
  Result<void> commit(std::size_t n);
  // Writes what is held back and closes the file, which is then whole but not flushed.
  Result<void> finish();
  // Closes the file as it is, unfinished (after an error).
  void abandon();
  bool direct() const { return m_block != 0; }

private:
  struct Free {
    void operator()(unsigned char* p) const { std::free(p); }
  };
  Result<void> write_through(); // the held bytes, through the page cache
  Result<void> to_page_cache(); // O_DIRECT off
  Path m_path;
  Fd m_fd;
  std::unique_ptr<unsigned char, Free> m_buf;
  std::size_t m_size = 0, m_align = 0; // of the buffer
  std::size_t m_block = 0;             // direct: the alignment of offsets, lengths and memory; 0: buffered
  std::size_t m_held = 0;              // bytes at the start of the buffer not yet written
  std::uint64_t m_written = 0, m_started = 0;
};

// Files made durable together: each is written under a temporary name beside its final one;
// commit() flushes them all at once (one syncfs per filesystem, then an fsync of each, cheap by
// then), puts each in place, and fsyncs each directory once. As with write_file_atomic, no final
// name ever holds a partial file, at a fraction of the flushes when there are many files.
class Batch {
public:
  Batch() = default;
  Batch(Batch&&) = default;
  Batch& operator=(Batch&& other) noexcept;
  ~Batch();
  // exclusive: the file is linked into place (an empty one created in place) and an existing
  // file is left as it is.
  Result<void> add(const Path& path, std::string_view data, unsigned mode = 0644, bool exclusive = false);
  // Returns the exclusive paths that already existed (their new content was dropped).
  Result<std::vector<Path>> commit();
  bool empty() const { return m_items.empty(); }

private:
  struct Item {
    Path tmp; // empty: an empty exclusive file, created at commit
    Path path;
    bool exclusive;
    unsigned mode;
  };
  std::vector<Item> m_items;
};

// An advisory open-file-description lock (fcntl F_OFD_SETLK): works across threads, processes
// and hosts on filesystems that support POSIX locks (ext4, xfs, CephFS, NFSv4).
class Lock {
public:
  enum class Mode { shared, exclusive };
  // Waits up to wait_seconds (0: do not wait); Errc::locked if still held by someone else.
  static Result<Lock> acquire(const Path& path, Mode mode, int wait_seconds);
  Lock() = default;
  Lock(Lock&&) = default;
  Lock& operator=(Lock&&) = default;

private:
  Fd m_fd;
};

// A staging directory, removed with everything in it when this goes out of scope, unless kept
// (once it has been renamed into place).
class ScratchDir {
public:
  explicit ScratchDir(Path path) : m_path(std::move(path)) {}
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();
  const Path& path() const { return m_path; }
  void keep() { m_keep = true; }

private:
  Path m_path;
  bool m_keep = false;
};

// n random bytes as lower-case hex.
std::string random_hex(std::size_t n);

// Work in progress is staged under a name PREFIX + HOST@PID.REST, so that a later run on the same
// host can tell which leftovers belong to processes that are gone.
std::string staging_name(std::string_view prefix, std::string_view host, std::string_view what);
// Removes dir's entries PREFIX + HOST@PID.… whose PID no longer runs on this host. Best effort:
// another host's entries, and names not of that form, are not this process's to judge.
void remove_stale_staging(const Path& dir, std::string_view prefix, std::string_view host);

} // namespace bwv::fs
