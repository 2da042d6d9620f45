// Signed checkpoints of custody logs (C2SP signed notes), as a bag or a copy lodged elsewhere
// presents them: custody::open_checkpoint.
//
// Each input is opened twice: as a whole note (checked against the fixture store's key, so the
// seed from a real bag verifies and mutations reach the signature lines), and as a note body that
// this target signs itself with that key, so that the body's parser is reached past the signature.
//
// Invariants: a checkpoint opened from either writes back, signed again, to a note that opens to
// the same checkpoint; one opened from a body signed here is read from that body's first lines
// exactly (origin, size and root hash as bwv writes them).
#include "core/text.hpp"
#include "crypto/hash.hpp"
#include "custody/checkpoint.hpp"
#include "fuzz.hpp"

#include <sodium.h>

using namespace bwv;

namespace {

// The store key of the fixture store that made the seeds (a throwaway key, made for this). Its
// id is C65753FE4452BC49.
constexpr std::string_view k_store_id = "0a068bf3867efd45";
constexpr std::string_view k_secret_key =
    "untrusted comment: minisign secret key (unencrypted: keep it mode 0600)\n"
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAASbxSRP5TV8ZeJf4dXqMdb8eHtM6nykW4BLs5"
    "St6qyeUfn1NpCggiCOJhvCt8Jm93hnNMHcZRnzeztFxctkUw7iW2cu44ssv7JR4pD5xbmEOUH8rDgpU2f+OXCCGxikxI2HATuqJS8mA=\n";

struct Fixture {
  crypto::SecretKey key;
  crypto::PublicKey pub;
  std::string name;
  std::string key_hash; // the 4 bytes a note's signature begins with
};

const Fixture& fixture() {
  static const Fixture f = [] {
    auto key = crypto::SecretKey::parse(k_secret_key, "fixture key", std::nullopt);
    if (!key) fuzz::setup_failed("fixture key: " + key.error().message);
    const std::string name = custody::note_key_name(k_store_id);
    // The key hash as the verifier key names it: NAME+HASH+KEY.
    const std::string vkey = custody::verifier_key(name, key->public_key());
    const auto hex = vkey.substr(name.size() + 1, 8);
    const auto bytes = text::from_hex(hex, 4, "key hash");
    if (!bytes) fuzz::setup_failed("verifier key");
    const auto pub = key->public_key();
    return Fixture{std::move(*key), pub, name, std::string(bytes->begin(), bytes->end())};
  }();
  return f;
}

// body, a blank line, and one signature line by the fixture key over body.
std::string signed_note(std::string_view body) {
  const Fixture& f = fixture();
  std::string sig = f.key_hash;
  sig.resize(4 + crypto_sign_BYTES);
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data() + 4), nullptr,
                       reinterpret_cast<const unsigned char*>(body.data()), body.size(), f.key.ed25519_sk());
  return std::string(body) + "\n\xe2\x80\x94 " + f.name + " " +
         text::to_base64({reinterpret_cast<const unsigned char*>(sig.data()), sig.size()}) + "\n";
}

void round_trip(const custody::Checkpoint& c) {
  const Fixture& f = fixture();
  const auto again = custody::open_checkpoint(custody::sign_checkpoint(c, f.name, f.key), f.name, f.pub, "rewritten");
  if (!again) std::fprintf(stderr, "rewritten checkpoint refused: %s\n", again.error().message.c_str());
  BWV_FUZZ_ASSERT(again);
  BWV_FUZZ_ASSERT(again->origin == c.origin && again->size == c.size && again->root == c.root);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);
  const Fixture& f = fixture();

  const auto note = custody::open_checkpoint(in, f.name, f.pub, "note");
  fuzz::say("note", note);
  if (note) round_trip(*note);

  if (!in.ends_with('\n')) return 0; // a body is whole lines
  const auto body = custody::open_checkpoint(signed_note(in), f.name, f.pub, "signed body");
  fuzz::say("body signed here", body);
  if (const auto& c = body) {
    BWV_FUZZ_ASSERT(in.starts_with(c->body()));
    round_trip(*c);
  }
  return 0;
}
