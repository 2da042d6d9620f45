#include "crypto/minisign.hpp"

#include "core/text.hpp"
#include "crypto/hash.hpp"

#include <sodium.h>

#include <cstring>
#include <new>
#include <vector>

namespace bwv::crypto {

namespace {

constexpr std::string_view k_comment_prefix = "untrusted comment: ";
constexpr std::string_view k_trusted_prefix = "trusted comment: ";
constexpr std::size_t k_keynum_sk_size = 8 + 64 + 32;
constexpr std::size_t k_seckey_size = 2 + 2 + 2 + 32 + 8 + 8 + k_keynum_sk_size;
// minisign's own scrypt parameters for encrypted keys.
constexpr std::uint64_t k_opslimit = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
constexpr std::uint64_t k_memlimit = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;

std::uint64_t le64_load(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void le64_store(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// Splits a file into lines; a missing final newline is tolerated, CR before LF is dropped.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// The base64 payload of a key file: the line after the untrusted comment, or the whole text.
Result<std::vector<unsigned char>> key_payload(std::string_view text, const std::string& subject,
                                               bool allow_bare) {
  const auto lines = lines_of(text);
  std::string_view b64;
  if (lines.size() >= 2 && lines[0].starts_with(k_comment_prefix))
    b64 = lines[1];
  else if (allow_bare && lines.size() == 1)
    b64 = lines[0];
  else
    return fail(Errc::check_failed, subject,
                "not a minisign key file (expected \"untrusted comment:\" and a base64 line)");
  return text::from_base64(b64, subject);
}

void checksum(const unsigned char* keynum, const unsigned char* sk, unsigned char out[32]) {
  // The hash state has held the secret key: in guarded memory, wiped with it.
  SecretBytes st(sizeof(crypto_generichash_state));
  auto* state = reinterpret_cast<crypto_generichash_state*>(st.data());
  crypto_generichash_init(state, nullptr, 0, 32);
  crypto_generichash_update(state, reinterpret_cast<const unsigned char*>("Ed"), 2);
  crypto_generichash_update(state, keynum, 8);
  crypto_generichash_update(state, sk, 64);
  crypto_generichash_final(state, out, 32);
}

// XOR the 104-byte key_id||sk||checksum with the scrypt stream of the passphrase.
bool scrypt_xor(unsigned char* keynum_sk, std::string_view passphrase, const unsigned char* salt,
                std::uint64_t ops, std::uint64_t mem) {
  SecretBytes stream(k_keynum_sk_size);
  if (crypto_pwhash_scryptsalsa208sha256(stream.data(), stream.size(), passphrase.data(),
                                         passphrase.size(), salt, ops, mem) != 0)
    return false;
  for (std::size_t i = 0; i < k_keynum_sk_size; ++i) keynum_sk[i] ^= stream.data()[i];
  return true;
}

} // namespace

std::string key_id_string(const KeyId& id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(le64_load(id.data())));
  return buf;
}

Result<PublicKey> PublicKey::parse(std::string_view text, const std::string& subject) {
  const auto raw = BWV_TRY(key_payload(text, subject, /*allow_bare=*/true));
  if (raw.size() != 42) return fail(Errc::check_failed, subject, "public key has the wrong length");
  if (raw[0] != 'E' || raw[1] != 'd')
    return fail(Errc::check_failed, subject, "unsupported public key algorithm (expected Ed)");
  PublicKey key;
  std::memcpy(key.id.data(), raw.data() + 2, 8);
  std::memcpy(key.pk.data(), raw.data() + 10, 32);
  return key;
}

std::string PublicKey::base64() const {
  std::array<unsigned char, 42> raw{};
  raw[0] = 'E';
  raw[1] = 'd';
  std::memcpy(raw.data() + 2, id.data(), 8);
  std::memcpy(raw.data() + 10, pk.data(), 32);
  return text::to_base64(raw);
}

std::string PublicKey::to_file(std::string_view comment) const {
  return std::string(k_comment_prefix) + std::string(comment) + "\n" + base64() + "\n";
}

SecretKey SecretKey::generate() {
  SecretKey key;
  PublicKey unused;
  crypto_sign_keypair(unused.pk.data(), key.m_sk.data());
  randombytes_buf(key.m_id.data(), key.m_id.size());
  return key;
}

PublicKey SecretKey::public_key() const {
  PublicKey pub;
  pub.id = m_id;
  crypto_sign_ed25519_sk_to_pk(pub.pk.data(), m_sk.data());
  return pub;
}

Result<SecretKey> SecretKey::parse(std::string_view text, const std::string& subject,
                                   const std::optional<std::string_view>& passphrase) {
  const auto lines = lines_of(text);
  if (lines.size() < 2 || !lines[0].starts_with(k_comment_prefix))
    return fail(Errc::check_failed, subject, "not a minisign secret key file");
  // Decode straight into guarded memory: the payload holds the secret key.
  SecretBytes raw(k_seckey_size + 3);
  std::size_t len = 0;
  const char* end = nullptr;
  if (!text::is_base64_alphabet(lines[1]) ||
      sodium_base642bin(raw.data(), raw.size(), lines[1].data(), lines[1].size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != lines[1].data() + lines[1].size() || len != k_seckey_size)
    return fail(Errc::check_failed, subject, "secret key is not valid base64 of the right length");
  const unsigned char* p = raw.data();
  if (std::memcmp(p, "Ed", 2) != 0)
    return fail(Errc::check_failed, subject, "unsupported secret key algorithm (expected Ed)");
  if (std::memcmp(p + 4, "B2", 2) != 0)
    return fail(Errc::check_failed, subject, "unsupported checksum algorithm (expected B2)");
  unsigned char* keynum_sk = raw.data() + 2 + 2 + 2 + 32 + 8 + 8;
  const bool encrypted = std::memcmp(p + 2, "Sc", 2) == 0;
  if (!encrypted && !(p[2] == 0 && p[3] == 0))
    return fail(Errc::check_failed, subject, "unsupported key derivation (expected Sc or none)");
  if (!encrypted && passphrase)
    return fail(Errc::usage, subject, "the key is not encrypted: no passphrase is needed");
  if (encrypted) {
    if (!passphrase) return fail(Errc::usage, subject, "the key is encrypted: a passphrase is needed");
    // The file names its own scrypt cost: more than minisign ever writes would let a crafted
    // key file take any amount of memory and time.
    if (le64_load(p + 38) > k_opslimit || le64_load(p + 46) > k_memlimit)
      return fail(Errc::check_failed, subject, "key derivation cost above minisign's; refused");
    if (!scrypt_xor(keynum_sk, *passphrase, p + 6, le64_load(p + 38), le64_load(p + 46)))
      return fail(Errc::internal, subject, "out of memory deriving the key");
  }
  SecretBytes chk(32); // a hash of the key: no less secret than a guess at it
  checksum(keynum_sk, keynum_sk + 8, chk.data());
  bool ok = sodium_memcmp(chk.data(), keynum_sk + 72, 32) == 0;
  // minisign 0.11 leaves the checksum of an unencrypted (-W) key as zeros; such a key is checked
  // instead by deriving its public half from its seed.
  if (!ok && !encrypted && sodium_is_zero(keynum_sk + 72, 32)) {
    unsigned char pk[32];
    SecretBytes sk(64);
    crypto_sign_seed_keypair(pk, sk.data(), keynum_sk + 8);
    ok = sodium_memcmp(sk.data(), keynum_sk + 8, 64) == 0;
  }
  if (!ok)
    return fail(Errc::check_failed, subject,
                encrypted ? "wrong passphrase (checksum mismatch)" : "corrupt secret key");
  SecretKey key;
  std::memcpy(key.m_id.data(), keynum_sk, 8);
  std::memcpy(key.m_sk.data(), keynum_sk + 8, 64);
  return key;
}

Result<SecretBytes> SecretKey::to_file(const std::optional<std::string_view>& passphrase) const {
  SecretBytes raw(k_seckey_size);
  unsigned char* p = raw.data();
  std::memset(p, 0, k_seckey_size);
  std::memcpy(p, "Ed", 2);
  std::memcpy(p + 4, "B2", 2);
  unsigned char* keynum_sk = p + 2 + 2 + 2 + 32 + 8 + 8;
  std::memcpy(keynum_sk, m_id.data(), 8);
  std::memcpy(keynum_sk + 8, m_sk.data(), 64);
  checksum(keynum_sk, keynum_sk + 8, keynum_sk + 72);
  std::string_view comment = "minisign encrypted secret key";
  if (passphrase) {
    std::memcpy(p + 2, "Sc", 2);
    randombytes_buf(p + 6, 32);
    le64_store(p + 38, k_opslimit);
    le64_store(p + 46, k_memlimit);
    if (!scrypt_xor(keynum_sk, *passphrase, p + 6, k_opslimit, k_memlimit))
      return fail(Errc::internal, "", "out of memory deriving the key");
  } else {
    comment = "minisign secret key (unencrypted: keep it mode 0600)";
  }
  // The base64 holds the secret key when unencrypted: the file is built in guarded memory.
  const SecretBytes b64 = secret_base64(raw.data(), raw.size());
  SecretBytes out(k_comment_prefix.size() + comment.size() + 1 + b64.size() + 1);
  char* o = reinterpret_cast<char*>(out.data());
  for (std::string_view part :
       {k_comment_prefix, comment, std::string_view("\n"), b64.view(), std::string_view("\n")}) {
    std::memcpy(o, part.data(), part.size());
    o += part.size();
  }
  return out;
}

Result<Signature> Signature::parse(std::string_view text, const std::string& subject) {
  const auto lines = lines_of(text);
  if (lines.size() < 4 || !lines[0].starts_with(k_comment_prefix) ||
      !lines[2].starts_with(k_trusted_prefix))
    return fail(Errc::check_failed, subject,
                "not a minisign signature file (four lines: untrusted comment, signature, trusted "
                "comment, global signature)");
  for (std::size_t i = 4; i < lines.size(); ++i)
    if (!lines[i].empty()) return fail(Errc::check_failed, subject, "trailing data after signature");
  Signature s;
  s.untrusted_comment = lines[0].substr(k_comment_prefix.size());
  s.trusted_comment = lines[2].substr(k_trusted_prefix.size());
  // minisign reads a comment only up to its first CR or NUL: one holding either would mean another
  // trusted comment to minisign than to bwv (and would not write back as it was read).
  for (const auto c : {std::string_view(s.untrusted_comment), std::string_view(s.trusted_comment)})
    if (c.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos)
      return fail(Errc::check_failed, subject, "a comment holds a carriage return or a NUL byte");
  const auto raw = BWV_TRY(text::from_base64(lines[1], subject));
  if (raw.size() != 74) return fail(Errc::check_failed, subject, "signature has the wrong length");
  if (raw[0] == 'E' && raw[1] == 'D')
    s.prehashed = true;
  else if (raw[0] == 'E' && raw[1] == 'd')
    s.prehashed = false;
  else
    return fail(Errc::check_failed, subject, "unsupported signature algorithm (expected ED or Ed)");
  std::memcpy(s.key_id.data(), raw.data() + 2, 8);
  std::memcpy(s.sig.data(), raw.data() + 10, 64);
  const auto global = BWV_TRY(text::from_base64(lines[3], subject));
  if (global.size() != 64)
    return fail(Errc::check_failed, subject, "global signature has the wrong length");
  std::memcpy(s.global_sig.data(), global.data(), 64);
  return s;
}

std::string Signature::to_file() const {
  std::array<unsigned char, 74> raw{};
  raw[0] = 'E';
  raw[1] = prehashed ? 'D' : 'd';
  std::memcpy(raw.data() + 2, key_id.data(), 8);
  std::memcpy(raw.data() + 10, sig.data(), 64);
  return std::string(k_comment_prefix) + untrusted_comment + "\n" + text::to_base64(raw) + "\n" +
         std::string(k_trusted_prefix) + trusted_comment + "\n" + text::to_base64(global_sig) +
         "\n";
}

Signature sign_prehashed(const SecretKey& key, const std::array<unsigned char, 64>& digest,
                         std::string trusted_comment, std::string untrusted_comment) {
  Signature s;
  s.prehashed = true;
  s.key_id = key.id();
  s.untrusted_comment = std::move(untrusted_comment);
  s.trusted_comment = std::move(trusted_comment);
  crypto_sign_detached(s.sig.data(), nullptr, digest.data(), digest.size(), key.ed25519_sk());
  std::string global(reinterpret_cast<const char*>(s.sig.data()), s.sig.size());
  global += s.trusted_comment;
  crypto_sign_detached(s.global_sig.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(global.data()), global.size(),
                       key.ed25519_sk());
  return s;
}

Signature sign(const SecretKey& key, std::string_view message, std::string trusted_comment,
               std::string untrusted_comment) {
  Blake2b512 h;
  h.update(message.data(), message.size());
  return sign_prehashed(key, h.finish(), std::move(trusted_comment), std::move(untrusted_comment));
}

Result<void> verify(const PublicKey& key, std::string_view message, const Signature& sig,
                    const std::string& subject) {
  if (sig.key_id != key.id)
    return fail(Errc::check_failed, subject,
                "signed by key " + key_id_string(sig.key_id) + ", expected key " +
                    key_id_string(key.id));
  int rc;
  if (sig.prehashed) {
    Blake2b512 h;
    h.update(message.data(), message.size());
    const auto digest = h.finish();
    rc = crypto_sign_verify_detached(sig.sig.data(), digest.data(), digest.size(), key.pk.data());
  } else {
    rc = crypto_sign_verify_detached(sig.sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.pk.data());
  }
  if (rc != 0) return fail(Errc::check_failed, subject, "signature verification failed");
  std::string global(reinterpret_cast<const char*>(sig.sig.data()), sig.sig.size());
  global += sig.trusted_comment;
  if (crypto_sign_verify_detached(sig.global_sig.data(),
                                  reinterpret_cast<const unsigned char*>(global.data()),
                                  global.size(), key.pk.data()) != 0)
    return fail(Errc::check_failed, subject, "trusted comment signature verification failed");
  return {};
}

} // namespace bwv::crypto
