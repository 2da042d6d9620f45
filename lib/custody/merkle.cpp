#include "custody/merkle.hpp"

#include "crypto/hash.hpp"

namespace bwv::custody::merkle {

namespace {

// The largest power of two below n (n > 1): where RFC 6962 splits a tree.
std::size_t split(std::size_t n) {
  std::size_t k = 1;
  while (k << 1 < n)
    k <<= 1;
  return k;
}

void path(std::span<const Hash> d, std::size_t m, std::vector<Hash>& out) {
  if (d.size() <= 1) return;
  const std::size_t k = split(d.size());
  if (m < k) {
    path(d.first(k), m, out);
    out.push_back(root(d.subspan(k)));
  } else {
    path(d.subspan(k), m - k, out);
    out.push_back(root(d.first(k)));
  }
}

} // namespace

Hash leaf_hash(std::string_view data) {
  crypto::Sha256 c;
  const unsigned char prefix = 0x00;
  c.update(&prefix, 1);
  c.update(data);
  return c.finish();
}

Hash node_hash(const Hash& left, const Hash& right) {
  crypto::Sha256 c;
  const unsigned char prefix = 0x01;
  c.update(&prefix, 1);
  c.update(left.data(), left.size());
  c.update(right.data(), right.size());
  return c.finish();
}

Hash root(std::span<const Hash> d) {
  if (d.empty()) return crypto::sha256({});
  if (d.size() == 1) return d[0];
  const std::size_t k = split(d.size());
  return node_hash(root(d.first(k)), root(d.subspan(k)));
}

std::vector<Hash> inclusion_proof(std::span<const Hash> leaves, std::uint64_t index) {
  std::vector<Hash> out;
  if (index < leaves.size()) path(leaves, static_cast<std::size_t>(index), out);
  return out;
}

bool verify_inclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                      const Hash& root_hash) {
  if (index >= size) return false;
  std::uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root_hash;
}

} // namespace bwv::custody::merkle
