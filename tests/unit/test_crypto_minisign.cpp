#include "crypto/minisign.hpp"

#include "core/text.hpp"
#include "tmpdir.hpp"

#include <doctest/doctest.h>

#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

using namespace bwv;
using bwv::test::contains;
using bwv::test::get_file;
using bwv::test::put_file;
using bwv::test::TmpDir;
using bwv::test::why;

TEST_SUITE_BEGIN("crypto::minisign");

namespace {

// Runs a command with its output discarded; the exit status.
int run(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1 </dev/null").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The base64 payload's bytes of line n (0-based) of a minisign file.
std::vector<unsigned char> line_bytes(const std::string& file, int n) {
  std::size_t pos = 0;
  for (int i = 0; i < n; ++i) pos = file.find('\n', pos) + 1;
  const auto raw = text::from_base64(file.substr(pos, file.find('\n', pos) - pos), "line");
  REQUIRE(raw);
  return *raw;
}

std::string with_line(const std::string& file, int n, const std::string& line) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < file.size()) {
    const auto nl = file.find('\n', pos);
    lines.push_back(file.substr(pos, nl - pos));
    pos = nl + 1;
  }
  lines.at(static_cast<std::size_t>(n)) = line;
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

} // namespace

TEST_CASE("key_id_string reads the id little-endian, as minisign prints it") {
  const crypto::KeyId id{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xab};
  CHECK(crypto::key_id_string(id) == "AB07060504030201");
  CHECK(crypto::key_id_string(crypto::KeyId{}) == "0000000000000000");
}

TEST_CASE("generate, write unencrypted, parse back") {
  const auto sk = crypto::SecretKey::generate();
  const auto file = sk.to_file(std::nullopt);
  REQUIRE_MESSAGE(file, why(file));
  const std::string text(file->view());
  CHECK(text.starts_with("untrusted comment: "));
  CHECK(text.ends_with("\n"));

  const auto raw = line_bytes(text, 1);
  REQUIRE(raw.size() == 158);
  CHECK(raw[0] == 'E');
  CHECK(raw[1] == 'd');
  CHECK(raw[2] == 0); // no KDF
  CHECK(raw[3] == 0);
  CHECK(raw[4] == 'B');
  CHECK(raw[5] == '2');
  CHECK(std::equal(sk.id().begin(), sk.id().end(), raw.begin() + 54)); // key id after the KDF fields

  const auto back = crypto::SecretKey::parse(text, "key", std::nullopt);
  REQUIRE_MESSAGE(back, why(back));
  CHECK(back->id() == sk.id());
  CHECK(back->public_key() == sk.public_key());
  CHECK(sodium_memcmp(back->ed25519_sk(), sk.ed25519_sk(), 64) == 0);

  // Two keys differ.
  const auto other = crypto::SecretKey::generate();
  CHECK_FALSE(other.public_key() == sk.public_key());
  CHECK(other.id() != sk.id());
}

TEST_CASE("a damaged unencrypted secret key is refused") {
  const auto sk = crypto::SecretKey::generate();
  const std::string text(sk.to_file(std::nullopt)->view());
  auto raw = line_bytes(text, 1);
  raw[100] ^= 1; // inside the secret key: the checksum no longer matches
  const auto r = crypto::SecretKey::parse(with_line(text, 1, text::to_base64(raw)), "key", std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::check_failed);
  CHECK(contains(r.error().message, "corrupt"));

  auto wrong_alg = line_bytes(text, 1);
  wrong_alg[1] = 'X';
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, text::to_base64(wrong_alg)), "k", std::nullopt));
  auto wrong_kdf = line_bytes(text, 1);
  wrong_kdf[2] = 'Q';
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, text::to_base64(wrong_kdf)), "k", std::nullopt));
  auto wrong_chk = line_bytes(text, 1);
  wrong_chk[4] = 'X';
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, text::to_base64(wrong_chk)), "k", std::nullopt));

  CHECK_FALSE(crypto::SecretKey::parse("", "k", std::nullopt));
  CHECK_FALSE(crypto::SecretKey::parse(text.substr(text.find('\n') + 1), "k", std::nullopt)); // no comment
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, "not base64!"), "k", std::nullopt));
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, text::to_base64(std::vector<unsigned char>(157, 1))),
                                       "k", std::nullopt));
  // A public key file is not a secret key.
  CHECK_FALSE(crypto::SecretKey::parse(sk.public_key().to_file("pub"), "k", std::nullopt));
}

TEST_CASE("an unencrypted key with an all-zero checksum is checked against its seed") {
  const auto sk = crypto::SecretKey::generate();
  const std::string text(sk.to_file(std::nullopt)->view());
  auto zero_chk = line_bytes(text, 1);
  std::fill(zero_chk.begin() + 126, zero_chk.end(), 0);
  const auto ok = crypto::SecretKey::parse(with_line(text, 1, text::to_base64(zero_chk)), "k", std::nullopt);
  REQUIRE_MESSAGE(ok, why(ok));
  CHECK(ok->public_key() == sk.public_key());

  auto bad_seed = zero_chk;
  bad_seed[62] ^= 1; // the seed: its public half no longer matches
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, text::to_base64(bad_seed)), "k", std::nullopt));
  auto bad_pk = zero_chk;
  bad_pk[62 + 40] ^= 1; // the public half
  CHECK_FALSE(crypto::SecretKey::parse(with_line(text, 1, text::to_base64(bad_pk)), "k", std::nullopt));
}

TEST_CASE("an unencrypted key given a passphrase is refused") {
  const auto sk = crypto::SecretKey::generate();
  const auto r = crypto::SecretKey::parse(sk.to_file(std::nullopt)->view(), "key", std::string("secret"));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::usage);
}

TEST_CASE("an encrypted secret key needs the right passphrase (the suite's one scrypt round trip)") {
  const auto sk = crypto::SecretKey::generate();
  const auto file = sk.to_file(std::string("correct horse"));
  REQUIRE_MESSAGE(file, why(file));
  const std::string text(file->view());
  const auto raw = line_bytes(text, 1);
  REQUIRE(raw.size() == 158);
  CHECK(raw[2] == 'S');
  CHECK(raw[3] == 'c');
  // The key id is encrypted too: it does not appear in the clear.
  CHECK_FALSE(std::equal(sk.id().begin(), sk.id().end(), raw.begin() + 54));

  const auto none = crypto::SecretKey::parse(text, "key", std::nullopt);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::usage);
  CHECK(contains(none.error().message, "passphrase"));

  const auto right = crypto::SecretKey::parse(text, "key", std::string("correct horse"));
  REQUIRE_MESSAGE(right, why(right));
  CHECK(right->id() == sk.id());
  CHECK(right->public_key() == sk.public_key());

  const auto wrong = crypto::SecretKey::parse(text, "key", std::string("correct horsf"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == Errc::check_failed);
  CHECK(contains(wrong.error().message, "wrong passphrase"));
}

TEST_CASE("an encrypted key written by hand in minisign's layout, with cheap scrypt limits, parses") {
  // Sc ‖ salt ‖ opslimit ‖ memlimit, and key_id ‖ sk ‖ checksum XORed with the scrypt stream:
  // built here independently of SecretKey::to_file, with the smallest limits libsodium allows.
  const auto sk = crypto::SecretKey::generate();
  auto raw = line_bytes(std::string(sk.to_file(std::nullopt)->view()), 1);
  REQUIRE(raw.size() == 158);
  raw[2] = 'S';
  raw[3] = 'c';
  randombytes_buf(raw.data() + 6, 32);
  const std::uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN;
  const std::uint64_t mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN;
  for (int i = 0; i < 8; ++i) {
    raw[38 + i] = static_cast<unsigned char>(ops >> (8 * i));
    raw[46 + i] = static_cast<unsigned char>(mem >> (8 * i));
  }
  const std::string pass = "pass phrase";
  unsigned char stream[104];
  REQUIRE(crypto_pwhash_scryptsalsa208sha256(stream, sizeof stream, pass.data(), pass.size(),
                                             raw.data() + 6, ops, mem) == 0);
  for (std::size_t i = 0; i < 104; ++i) raw[54 + i] ^= stream[i];
  const std::string file = "untrusted comment: hand-made\n" + text::to_base64(raw) + "\n";

  const auto right = crypto::SecretKey::parse(file, "key", pass);
  REQUIRE_MESSAGE(right, why(right));
  CHECK(right->id() == sk.id());
  CHECK(right->public_key() == sk.public_key());
  const auto wrong = crypto::SecretKey::parse(file, "key", std::string("pass phrasf"));
  REQUIRE_FALSE(wrong);
  CHECK(contains(wrong.error().message, "wrong passphrase"));
  const auto empty = crypto::SecretKey::parse(file, "key", std::string());
  CHECK_FALSE(empty);
  const auto none = crypto::SecretKey::parse(file, "key", std::nullopt);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == Errc::usage);
}

TEST_CASE("public key file round trip and the bare base64 form") {
  const auto sk = crypto::SecretKey::generate();
  const crypto::PublicKey pub = sk.public_key();
  const std::string file = pub.to_file("minisign public key " + crypto::key_id_string(pub.id));
  CHECK(file == "untrusted comment: minisign public key " + crypto::key_id_string(pub.id) + "\n" +
                    pub.base64() + "\n");
  CHECK(pub.base64().size() == 56);
  CHECK(pub.base64().starts_with("RW")); // "Ed"

  const auto back = crypto::PublicKey::parse(file, "pub");
  REQUIRE_MESSAGE(back, why(back));
  CHECK(*back == pub);
  const auto bare = crypto::PublicKey::parse(pub.base64(), "pub");
  REQUIRE_MESSAGE(bare, why(bare));
  CHECK(*bare == pub);
  CHECK(crypto::PublicKey::parse(pub.base64() + "\n", "pub") == pub);
  const std::string crlf = "untrusted comment: x\r\n" + pub.base64() + "\r\n";
  CHECK(crypto::PublicKey::parse(crlf, "pub") == pub);
}

TEST_CASE("PublicKey::parse refuses what is not an Ed public key") {
  const auto pub = crypto::SecretKey::generate().public_key();
  auto raw = line_bytes(pub.to_file("c"), 1);
  raw[1] = 'D';
  for (const std::string& bad :
       {std::string(""), std::string("untrusted comment: x\n"), std::string("garbage\nline\n"),
        "untrusted comment: x\n" + text::to_base64(raw) + "\n",
        "untrusted comment: x\n" + pub.base64().substr(4) + "\n", std::string("untrusted comment: x\n!!!!\n"),
        pub.base64() + "\n" + pub.base64() + "\n"}) {
    CAPTURE(bad);
    const auto r = crypto::PublicKey::parse(bad, "pub");
    REQUIRE_FALSE(r);
    CHECK(r.error().subject == "pub");
  }
}

TEST_CASE("sign, write, parse, verify") {
  const auto sk = crypto::SecretKey::generate();
  const auto pub = sk.public_key();
  const std::string message = "the manifest bytes\n";
  const crypto::Signature sig = crypto::sign(sk, message, "bwv-manifest id sha", "from the test");
  CHECK(sig.prehashed);
  CHECK(sig.key_id == sk.id());
  const std::string file = sig.to_file();
  CHECK(file.starts_with("untrusted comment: from the test\n"));
  CHECK(contains(file, "\ntrusted comment: bwv-manifest id sha\n"));
  CHECK(line_bytes(file, 1).size() == 74);
  CHECK(line_bytes(file, 1)[0] == 'E');
  CHECK(line_bytes(file, 1)[1] == 'D');

  const auto parsed = crypto::Signature::parse(file, "sig");
  REQUIRE_MESSAGE(parsed, why(parsed));
  CHECK(parsed->prehashed);
  CHECK(parsed->key_id == sk.id());
  CHECK(parsed->trusted_comment == "bwv-manifest id sha");
  CHECK(parsed->untrusted_comment == "from the test");
  CHECK(parsed->sig == sig.sig);
  CHECK(parsed->global_sig == sig.global_sig);
  CHECK(parsed->to_file() == file);

  const auto ok = crypto::verify(pub, message, *parsed, "msg");
  CHECK_MESSAGE(ok, why(ok));
  CHECK(crypto::verify(pub, "", crypto::sign(sk, "", "empty"), "msg"));

  // The default untrusted comment.
  CHECK(crypto::sign(sk, message, "t").untrusted_comment == "signature from bwv secret key");
}

TEST_CASE("sign_prehashed equals sign over the BLAKE2b-512 of the message") {
  const auto sk = crypto::SecretKey::generate();
  const std::string message = test::random_bytes(5000);
  std::array<unsigned char, 64> digest{};
  crypto_generichash(digest.data(), 64, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size(), nullptr, 0);
  const auto a = crypto::sign(sk, message, "tc", "uc");
  const auto b = crypto::sign_prehashed(sk, digest, "tc", "uc");
  CHECK(a.sig == b.sig);
  CHECK(a.global_sig == b.global_sig);
  CHECK(a.to_file() == b.to_file());
  CHECK(crypto::verify(sk.public_key(), message, b, "m"));
}

TEST_CASE("verify refuses a changed message, a changed trusted comment, another key") {
  const auto sk = crypto::SecretKey::generate();
  const auto pub = sk.public_key();
  const std::string message = "evidence";
  const auto sig = crypto::sign(sk, message, "trusted");

  const auto changed = crypto::verify(pub, "evidencf", sig, "subject");
  REQUIRE_FALSE(changed);
  CHECK(changed.error().code == Errc::check_failed);
  CHECK(changed.error().subject == "subject");
  CHECK(changed.error().message == "signature verification failed");
  CHECK_FALSE(crypto::verify(pub, message + "\n", sig, "s"));
  CHECK_FALSE(crypto::verify(pub, "", sig, "s"));

  auto tc = sig;
  tc.trusted_comment = "trusted!";
  const auto comment = crypto::verify(pub, message, tc, "s");
  REQUIRE_FALSE(comment);
  CHECK(comment.error().message == "trusted comment signature verification failed");
  // The same through the file.
  const std::string file = sig.to_file();
  const auto edited = crypto::Signature::parse(with_line(file, 2, "trusted comment: trusted2"), "s");
  REQUIRE(edited);
  CHECK_FALSE(crypto::verify(pub, message, *edited, "s"));
  // The untrusted comment is not covered.
  const auto untrusted = crypto::Signature::parse(with_line(file, 0, "untrusted comment: anything"), "s");
  REQUIRE(untrusted);
  CHECK(crypto::verify(pub, message, *untrusted, "s"));

  const auto other = crypto::SecretKey::generate();
  const auto by_other = crypto::sign(other, message, "trusted");
  const auto wrong_key = crypto::verify(pub, message, by_other, "s");
  REQUIRE_FALSE(wrong_key);
  CHECK(contains(wrong_key.error().message, crypto::key_id_string(other.id())));
  CHECK(contains(wrong_key.error().message, crypto::key_id_string(pub.id)));

  // Another key's signature relabelled with this key's id still fails.
  auto relabelled = by_other;
  relabelled.key_id = pub.id;
  CHECK_FALSE(crypto::verify(pub, message, relabelled, "s"));

  // Flipping any bit of either signature fails.
  auto bad_sig = sig;
  bad_sig.sig[10] ^= 0x40;
  CHECK_FALSE(crypto::verify(pub, message, bad_sig, "s"));
  auto bad_global = sig;
  bad_global.global_sig[63] ^= 0x01;
  CHECK_FALSE(crypto::verify(pub, message, bad_global, "s"));

  // A prehashed signature does not pass as legacy, nor the other way round.
  auto as_legacy = sig;
  as_legacy.prehashed = false;
  CHECK_FALSE(crypto::verify(pub, message, as_legacy, "s"));
}

TEST_CASE("legacy Ed signatures are accepted") {
  const auto sk = crypto::SecretKey::generate();
  const std::string message = "legacy message";
  crypto::Signature s;
  s.prehashed = false;
  s.key_id = sk.id();
  s.trusted_comment = "legacy";
  s.untrusted_comment = "u";
  crypto_sign_detached(s.sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk.ed25519_sk());
  std::string global(reinterpret_cast<const char*>(s.sig.data()), 64);
  global += s.trusted_comment;
  crypto_sign_detached(s.global_sig.data(), nullptr, reinterpret_cast<const unsigned char*>(global.data()),
                       global.size(), sk.ed25519_sk());
  const std::string file = s.to_file();
  CHECK(line_bytes(file, 1)[1] == 'd');
  const auto parsed = crypto::Signature::parse(file, "sig");
  REQUIRE(parsed);
  CHECK_FALSE(parsed->prehashed);
  CHECK(crypto::verify(sk.public_key(), message, *parsed, "m"));
  CHECK_FALSE(crypto::verify(sk.public_key(), message + "x", *parsed, "m"));
}

TEST_CASE("Signature::parse refuses malformed files") {
  const auto sk = crypto::SecretKey::generate();
  const std::string file = crypto::sign(sk, "m", "t").to_file();
  auto raw = line_bytes(file, 1);
  raw[1] = 'X';
  for (const std::string& bad : {
           std::string(""),
           file.substr(0, file.rfind('\n', file.size() - 2) + 1),      // three lines
           file + "extra\n",                                           // trailing data
           with_line(file, 0, "comment: x"),                           // no untrusted comment
           with_line(file, 2, "comment: x"),                           // no trusted comment
           with_line(file, 1, text::to_base64(raw)),                   // unknown algorithm
           with_line(file, 1, text::to_base64(std::vector<unsigned char>(73, 'E'))),
           with_line(file, 3, text::to_base64(std::vector<unsigned char>(63, 0))),
           with_line(file, 3, "not base64"),
       }) {
    CAPTURE(bad);
    const auto r = crypto::Signature::parse(bad, "sig");
    REQUIRE_FALSE(r);
    CHECK(r.error().subject == "sig");
  }
  // Trailing blank lines and CRLF are tolerated.
  CHECK(crypto::Signature::parse(file + "\n\n", "sig"));
  std::string crlf;
  for (char c : file) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const auto p = crypto::Signature::parse(crlf, "sig");
  REQUIRE(p);
  CHECK(p->trusted_comment == "t");
  CHECK(crypto::verify(sk.public_key(), "m", *p, "m"));
}

TEST_CASE("interop: minisign verifies what bwv signs") {
  TmpDir tmp;
  const auto sk = crypto::SecretKey::generate();
  const auto pub = sk.public_key();
  const std::string data = test::random_bytes(200000);
  put_file(tmp / "file", data);
  put_file(tmp / "pub", pub.to_file("minisign public key " + crypto::key_id_string(pub.id)));
  put_file(tmp / "sig", crypto::sign(sk, data, "bwv trusted comment").to_file());
  const std::string verify = "minisign -V -q -H -p " + (tmp / "pub").string() + " -m " +
                             (tmp / "file").string() + " -x " + (tmp / "sig").string();
  CHECK(run(verify) == 0);
  CHECK(run("minisign -V -q -H -P " + pub.base64() + " -m " + (tmp / "file").string() + " -x " +
            (tmp / "sig").string()) == 0);

  // And refuses it once the file changes.
  put_file(tmp / "file", data + "x");
  CHECK(run(verify) != 0);
}

TEST_CASE("interop: minisign signs with a bwv secret key file") {
  TmpDir tmp;
  const auto sk = crypto::SecretKey::generate();
  put_file(tmp / "key", sk.to_file(std::nullopt)->view());
  REQUIRE(::chmod((tmp / "key").c_str(), 0600) == 0);
  put_file(tmp / "file", "signed by minisign with a bwv key\n");
  REQUIRE(run("minisign -S -s " + (tmp / "key").string() + " -m " + (tmp / "file").string() + " -x " +
              (tmp / "sig").string() + " -t from-minisign") == 0);
  const auto sig = crypto::Signature::parse(get_file(tmp / "sig"), "sig");
  REQUIRE_MESSAGE(sig, why(sig));
  CHECK(sig->key_id == sk.id());
  CHECK(sig->trusted_comment == "from-minisign");
  const auto ok = crypto::verify(sk.public_key(), get_file(tmp / "file"), *sig, "file");
  CHECK_MESSAGE(ok, why(ok));
}

TEST_CASE("interop: bwv reads minisign's keys and verifies its signatures") {
  TmpDir tmp;
  const std::string P = (tmp / "P").string(), S = (tmp / "S").string();
  REQUIRE(run("minisign -G -W -p " + P + " -s " + S + " -f") == 0);
  put_file(tmp / "file", "a file signed by stock minisign\n");
  REQUIRE(run("minisign -S -s " + S + " -m " + (tmp / "file").string() + " -x " +
              (tmp / "sig").string() + " -t comment") == 0);

  const std::string pub_text = get_file(P);
  const auto pub = crypto::PublicKey::parse(pub_text, P);
  REQUIRE_MESSAGE(pub, why(pub));
  const auto sk = crypto::SecretKey::parse(get_file(S), S, std::nullopt);
  REQUIRE_MESSAGE(sk, why(sk));
  CHECK(sk->public_key() == *pub);
  CHECK(sk->id() == pub->id);

  // minisign names the key in its public key's untrusted comment by the same number (it drops
  // leading zeros: see the interop test below).
  const std::string prefix = "untrusted comment: minisign public key ";
  REQUIRE(pub_text.starts_with(prefix));
  const std::string printed = pub_text.substr(prefix.size(), pub_text.find('\n') - prefix.size());
  REQUIRE(printed.size() <= 16);
  CHECK(crypto::key_id_string(pub->id) == std::string(16 - printed.size(), '0') + printed);

  const auto sig = crypto::Signature::parse(get_file(tmp / "sig"), "sig");
  REQUIRE_MESSAGE(sig, why(sig));
  CHECK(sig->prehashed);
  CHECK(sig->key_id == pub->id);
  CHECK(sig->trusted_comment == "comment");
  const auto ok = crypto::verify(*pub, get_file(tmp / "file"), *sig, "file");
  CHECK_MESSAGE(ok, why(ok));
  CHECK_FALSE(crypto::verify(*pub, "another file\n", *sig, "file"));

  // A signature bwv makes with minisign's key verifies with minisign too.
  put_file(tmp / "sig2", crypto::sign(*sk, get_file(tmp / "file"), "from bwv").to_file());
  CHECK(run("minisign -V -q -H -p " + P + " -m " + (tmp / "file").string() + " -x " +
            (tmp / "sig2").string()) == 0);

  // minisign's legacy (-l) signatures verify too.
  REQUIRE(run("minisign -S -l -s " + S + " -m " + (tmp / "file").string() + " -x " +
              (tmp / "legacy").string() + " -t legacy") == 0);
  const auto legacy = crypto::Signature::parse(get_file(tmp / "legacy"), "legacy");
  REQUIRE_MESSAGE(legacy, why(legacy));
  CHECK_FALSE(legacy->prehashed);
  CHECK(crypto::verify(*pub, get_file(tmp / "file"), *legacy, "file"));
}

namespace {

// A bwv key whose id, read as minisign reads it, has a leading zero hex digit or not.
crypto::SecretKey key_with_leading_zero(bool zero) {
  for (int i = 0; i < 10000; ++i) {
    auto sk = crypto::SecretKey::generate();
    if ((sk.id()[7] < 0x10) == zero) return sk;
  }
  FAIL("no such key id in 10000 tries");
  return crypto::SecretKey::generate();
}

// The public key file minisign -R makes from a bwv secret key.
std::string minisign_recreated_pub(const TmpDir& tmp, const crypto::SecretKey& sk) {
  put_file(tmp / "S", sk.to_file(std::nullopt)->view());
  REQUIRE(::chmod((tmp / "S").c_str(), 0600) == 0);
  REQUIRE(run("minisign -R -s " + (tmp / "S").string() + " -p " + (tmp / "P").string()) == 0);
  return get_file(tmp / "P");
}

} // namespace

TEST_CASE("interop: minisign -R names a bwv key by key_id_string") {
  TmpDir tmp;
  const auto sk = key_with_leading_zero(false);
  const std::string pub = minisign_recreated_pub(tmp, sk);
  CHECK(pub == "untrusted comment: minisign public key " + crypto::key_id_string(sk.id()) + "\n" +
                   sk.public_key().base64() + "\n");
  CHECK(crypto::PublicKey::parse(pub, "P") == sk.public_key());
}

// minisign 0.11 prints key ids without leading zeros; bwv always writes 16 digits, and accepts
// either form where a key id is given (bwv-key revoke).
TEST_CASE("interop: minisign's key id, zero-padded to 16 digits, is key_id_string") {
  TmpDir tmp;
  const auto sk = key_with_leading_zero(true);
  const std::string pub = minisign_recreated_pub(tmp, sk);
  const std::string prefix = "untrusted comment: minisign public key ";
  REQUIRE(pub.starts_with(prefix));
  std::string printed = pub.substr(prefix.size(), pub.find('\n') - prefix.size());
  CHECK(printed.size() < 16);
  printed.insert(0, 16 - printed.size(), '0');
  CHECK(printed == crypto::key_id_string(sk.id()));
}

TEST_SUITE_END();
