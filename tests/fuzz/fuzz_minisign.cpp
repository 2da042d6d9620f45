// Key and signature files in minisign's formats (and bwv's sealing keys, which follow them), as a
// camera, a device provisioning or a bag presents them. Every input goes to each parser; what one
// accepts must write back to a file that parses to the same thing.
#include "crypto/minisign.hpp"
#include "crypto/seal.hpp"
#include "fuzz.hpp"

using namespace bwv;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = fuzz::text(data, size);

  const auto pub = crypto::PublicKey::parse(in, "key.pub");
  const auto sec = crypto::SecretKey::parse(in, "key.sec", std::nullopt);
  const auto seal_pub = crypto::SealPublicKey::parse(in, "seal.pub");
  const auto seal_sec = crypto::SealSecretKey::parse(in, "seal.key");
  const auto sig = crypto::Signature::parse(in, "file.minisig");
  fuzz::say("public key", pub);
  fuzz::say("secret key", sec);
  fuzz::say("sealing public key", seal_pub);
  fuzz::say("sealing secret key", seal_sec);
  fuzz::say("signature", sig);

  if (const auto& k = pub) {
    const auto from_file = crypto::PublicKey::parse(k->to_file("fuzz"), "rewritten");
    const auto from_line = crypto::PublicKey::parse(k->base64(), "rewritten");
    BWV_FUZZ_ASSERT(from_file && *from_file == *k);
    BWV_FUZZ_ASSERT(from_line && *from_line == *k);
  }

  // Without a passphrase only: an encrypted key names its own scrypt cost (up to gigabytes), and a
  // passphrase is refused for an unencrypted one before anything is derived.
  if (const auto& k = sec) {
    const auto file = k->to_file(std::nullopt);
    BWV_FUZZ_ASSERT(file);
    const auto again = crypto::SecretKey::parse(file->view(), "rewritten", std::nullopt);
    BWV_FUZZ_ASSERT(again && again->id() == k->id() && again->public_key() == k->public_key());
    BWV_FUZZ_ASSERT(k->public_key().id == k->id());
  }

  if (const auto& k = seal_pub) {
    const auto again = crypto::SealPublicKey::parse(k->to_file(), "rewritten");
    BWV_FUZZ_ASSERT(again && again->id == k->id && again->pk == k->pk);
  }

  if (const auto& k = seal_sec) {
    const auto again = crypto::SealSecretKey::parse(k->to_file().view(), "rewritten");
    BWV_FUZZ_ASSERT(again);
    const auto a = k->public_key(), b = again->public_key();
    BWV_FUZZ_ASSERT(a.id == b.id && a.pk == b.pk);
  }

  if (const auto& s = sig) {
    const std::string out = s->to_file();
    const auto again = crypto::Signature::parse(out, "rewritten");
    if (!again) std::fprintf(stderr, "rewritten signature refused: %s\n", again.error().message.c_str());
    BWV_FUZZ_ASSERT(again);
    BWV_FUZZ_ASSERT(again->prehashed == s->prehashed && again->key_id == s->key_id && again->sig == s->sig &&
                    again->global_sig == s->global_sig);
    BWV_FUZZ_ASSERT(again->untrusted_comment == s->untrusted_comment);
    BWV_FUZZ_ASSERT(again->trusted_comment == s->trusted_comment);
    BWV_FUZZ_ASSERT(again->to_file() == out);
  }
  return 0;
}
