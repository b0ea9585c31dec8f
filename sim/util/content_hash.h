// Content hashes that tie a sweep's output directory to the exact inputs and program that made
// it: SHA-256 (FIPS 180-4, from Nettle), and the identity of the running
// executable.
#pragma once

#include <string>
#include <string_view>

namespace pciesim {

// The SHA-256 of `bytes`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// What identifies the running pciesim executable: "gnu-build-id:<hex>" from its ELF build-id
// note (a hash of the linked file, read from memory at no cost), else "sha256:<hex>" of
// /proc/self/exe. Two builds from the same sources with the same tools have the same identity.
std::string executable_identity();

} // namespace pciesim
