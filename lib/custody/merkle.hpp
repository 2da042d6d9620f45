// RFC 6962 Merkle tree hashing over custody log lines (each leaf is one line's exact bytes): tree
// heads, inclusion proofs and their verification (RFC 9162, 2.1.3.2), so that a court can check
// one clip's entries against a signed checkpoint without seeing anyone else's.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace bwv::custody::merkle {

using Hash = std::array<unsigned char, 32>;

Hash leaf_hash(std::string_view data);               // SHA-256(0x00 || data)
Hash node_hash(const Hash& left, const Hash& right); // SHA-256(0x01 || left || right)

// The tree head of the leaves (given as leaf hashes); of none, SHA-256 of nothing.
Hash root(std::span<const Hash> leaves);
// PATH(index, leaves): the sibling hashes from the leaf up; index < leaves.size().
std::vector<Hash> inclusion_proof(std::span<const Hash> leaves, std::uint64_t index);
bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                      const Hash& root);

} // namespace bwv::custody::merkle
