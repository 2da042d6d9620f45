// Signed checkpoints of a custody log: the C2SP tlog-checkpoint text (origin, tree size, root
// hash) in a C2SP signed note, signed with the store's Ed25519 key, so that anyone holding the
// store's public key can check a checkpoint lodged elsewhere, and a log rewritten after it shows.
#pragma once

#include "core/error.hpp"
#include "crypto/minisign.hpp"
#include "custody/merkle.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace bwv::custody {

struct Checkpoint {
  std::string origin; // bwv/STORE_ID/custody/HOST: one log of one store
  std::uint64_t size = 0;
  merkle::Hash root{};
  std::string body() const; // the three checkpoint lines, each ending in a newline
};

// The note's signer name for a store: bwv/STORE_ID.
std::string note_key_name(std::string_view store_id);
// The C2SP verifier key: NAME+KEYHASH+base64(0x01 || public key).
std::string verifier_key(std::string_view name, const crypto::PublicKey& key);

// The checkpoint as a signed note: its body, a blank line, and one signature line.
std::string sign_checkpoint(const Checkpoint& c, std::string_view name, const crypto::SecretKey& key);
// Checks a signed note's signature by name and key, and parses its checkpoint.
Result<Checkpoint> open_checkpoint(std::string_view note, std::string_view name, const crypto::PublicKey& key,
                                   const std::string& subject);

} // namespace bwv::custody
