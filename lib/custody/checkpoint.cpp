#include "custody/checkpoint.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"

#include <sodium.h>

#include <cstring>

namespace bwv::custody {

namespace {

constexpr std::string_view k_dash = "\xe2\x80\x94 "; // U+2014 and a space begin a signature line
constexpr unsigned char k_ed25519 = 0x01;

std::array<unsigned char, 4> key_hash(std::string_view name, const crypto::PublicKey& key) {
  std::string m(name);
  m += '\n';
  m += static_cast<char>(k_ed25519);
  m.append(reinterpret_cast<const char*>(key.pk.data()), key.pk.size());
  const auto h = crypto::sha256(m);
  return {h[0], h[1], h[2], h[3]};
}

} // namespace

std::string Checkpoint::body() const {
  return origin + "\n" + std::to_string(size) + "\n" + text::to_base64(root) + "\n";
}

std::string note_key_name(std::string_view store_id) { return "bwv/" + std::string(store_id); }

std::string verifier_key(std::string_view name, const crypto::PublicKey& key) {
  std::vector<unsigned char> k{k_ed25519};
  k.insert(k.end(), key.pk.begin(), key.pk.end());
  const auto h = key_hash(name, key);
  return std::string(name) + "+" + text::to_hex(h) + "+" + text::to_base64(k);
}

std::string sign_checkpoint(const Checkpoint& c, std::string_view name, const crypto::SecretKey& key) {
  const std::string body = c.body();
  std::vector<unsigned char> sig(4 + crypto_sign_BYTES);
  const auto h = key_hash(name, key.public_key());
  std::memcpy(sig.data(), h.data(), 4);
  crypto_sign_detached(sig.data() + 4, nullptr, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                       key.ed25519_sk());
  return body + "\n" + std::string(k_dash) + std::string(name) + " " + text::to_base64(sig) + "\n";
}

Result<Checkpoint> open_checkpoint(std::string_view note, std::string_view name, const crypto::PublicKey& key,
                                   const std::string& subject) {
  if (note.size() > 65536) return fail(Errc::check_failed, subject, "checkpoint larger than 64 KiB");
  const auto split = note.rfind("\n\n");
  if (split == std::string_view::npos || !note.ends_with('\n'))
    return fail(Errc::check_failed, subject, "not a signed note (no blank line before the signatures)");
  const std::string_view body = note.substr(0, split + 1);
  const auto want = key_hash(name, key);
  bool signed_ok = false;
  std::string_view sigs = note.substr(split + 2);
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');
    const std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!line.starts_with(k_dash)) return fail(Errc::check_failed, subject, "a malformed signature line");
    const std::string_view rest = line.substr(k_dash.size());
    const auto sp = rest.find(' ');
    if (sp == std::string_view::npos) return fail(Errc::check_failed, subject, "a malformed signature line");
    if (rest.substr(0, sp) != name) continue; // another signer's: not ours to judge
    const auto sig = text::from_base64(rest.substr(sp + 1), "signature");
    if (!sig || sig->size() != 4 + crypto_sign_BYTES || std::memcmp(sig->data(), want.data(), 4) != 0) continue;
    if (crypto_sign_verify_detached(sig->data() + 4, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                                    key.pk.data()) != 0)
      return fail(Errc::check_failed, subject, "signature verification failed");
    signed_ok = true;
    break;
  }
  if (!signed_ok) return fail(Errc::check_failed, subject, "not signed by " + std::string(name));

  // origin, size, root; extension lines after them are allowed and ignored.
  Checkpoint c;
  std::string_view b = body;
  auto next = [&b]() {
    const auto nl = b.find('\n');
    const std::string_view l = b.substr(0, nl);
    b.remove_prefix(nl + 1);
    return l;
  };
  c.origin = std::string(next());
  const std::string_view size = b.empty() ? std::string_view{} : next();
  const std::string_view root = b.empty() ? std::string_view{} : next();
  if (c.origin.empty() || size.empty() || size.size() > 19 ||
      size.find_first_not_of("0123456789") != std::string_view::npos || (size.size() > 1 && size[0] == '0'))
    return fail(Errc::check_failed, subject, "not a checkpoint (origin, then a tree size)");
  c.size = std::stoull(std::string(size));
  const auto r = text::from_base64(root, "root hash");
  if (!r || r->size() != 32) return fail(Errc::check_failed, subject, "not a checkpoint (a root hash of 32 bytes)");
  std::memcpy(c.root.data(), r->data(), 32);
  return c;
}

} // namespace bwv::custody
