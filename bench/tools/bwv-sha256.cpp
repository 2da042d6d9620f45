// bwv-sha256: a bench tool (built, not installed) that prints "<hex>  <file>" for each file
// argument, as sha256sum does, using the library's own streamed SHA-256 (bwv::crypto::sha256_file).
// bench/hash compares it with `openssl dgst -sha256` and `sha256sum`.
#include "crypto/hash.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  if (!bwv::crypto::init()) {
    std::fprintf(stderr, "bwv-sha256: error: cannot initialise the crypto library\n");
    return 7;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: bwv-sha256 FILE...\n");
    return 2;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const auto digest = bwv::crypto::sha256_file(argv[i]);
    if (!digest) {
      std::fprintf(stderr, "bwv-sha256: error: %s: %s\n", argv[i], digest.error().message.c_str());
      status = static_cast<int>(digest.error().code);
      continue;
    }
    std::printf("%s  %s\n", bwv::crypto::hex(*digest).c_str(), argv[i]);
  }
  return status;
}
