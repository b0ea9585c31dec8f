#include "sim/util/content_hash.h"

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <link.h>
#include <stdexcept>

#include <fmt/format.h>
#include <nettle/sha2.h>

namespace pciesim {
namespace {

// SHA-256 through Nettle (Debian's nettle-dev), fed in pieces. Not OpenSSL's libcrypto: the
// dynamic loader resolved libcrypto's thousands of symbols at every start of the program
// (about 2.4 ms and 2.3 M instructions, docs/performance.md), for a digest only sweeps use.
class Sha256 {
public:
  Sha256() { sha256_init(&context_); }

  void update(std::string_view bytes) {
    sha256_update(&context_, bytes.size(), reinterpret_cast<const std::uint8_t *>(bytes.data()));
  }

  std::string hex_digest() {
    std::uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&context_, sizeof digest, digest);
    std::string hex;
    for (std::uint8_t byte : digest)
      hex += fmt::format("{:02x}", byte);
    return hex;
  }

private:
  sha256_ctx context_;
};

// The GNU build-id note of the main program, from its loaded PT_NOTE segments; "" if none.
std::string gnu_build_id() {
  std::string id;
  dl_iterate_phdr(
      [](dl_phdr_info *info, std::size_t, void *out) -> int {
        // The first object is the main program; stop after it whatever it holds.
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_NOTE)
            continue;
          const char *at = reinterpret_cast<const char *>(info->dlpi_addr + segment.p_vaddr);
          const char *end = at + segment.p_memsz;
          while (at + sizeof(ElfW(Nhdr)) <= end) {
            ElfW(Nhdr) note;
            std::memcpy(&note, at, sizeof note);
            const char *name = at + sizeof note;
            const char *desc = name + ((note.n_namesz + 3) & ~3u);
            at = desc + ((note.n_descsz + 3) & ~3u);
            if (at > end)
              break;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0) {
              std::string &hex = *static_cast<std::string *>(out);
              for (std::size_t b = 0; b < note.n_descsz; ++b)
                hex += fmt::format("{:02x}", static_cast<unsigned char>(desc[b]));
              return 1;
            }
          }
        }
        return 1;
      },
      &id);
  return id;
}

} // namespace

std::string sha256_hex(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.hex_digest();
}

std::string executable_identity() {
  static const std::string identity = [] {
    std::string build_id = gnu_build_id();
    if (!build_id.empty())
      return "gnu-build-id:" + build_id;
    std::ifstream in("/proc/self/exe", std::ios::binary);
    if (!in)
      throw std::runtime_error("cannot read the pciesim executable (/proc/self/exe) to hash it");
    Sha256 hash;
    std::string buffer(1 << 20, '\0');
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
      hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
    return "sha256:" + hash.hex_digest();
  }();
  return identity;
}

} // namespace pciesim
