// A bag's files hashed both ways (SHA-256 and SHA-512) in one read, for its manifests: when made
// (copying from the store as it goes) and when checked.
#pragma once

#include "core/error.hpp"
#include "core/fs.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace bwv::bag {

struct FileHashes {
  std::string sha256, sha512; // hex
  std::uint64_t size = 0;
};

// Reads from, hashing it; with copy_to, writes what it reads there (a new file, not flushed).
// advanced(n) after each piece.
Result<FileHashes> hash_file(const fs::Path& from, const fs::Path* copy_to = nullptr,
                             const std::function<void(std::uint64_t)>& advanced = {});

} // namespace bwv::bag
