// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): a 64-bit generator of one word of state, for draws the models make many of
// (random addresses of a stream) where a Mersenne Twister's 2.5 KiB per stream would not do.
// Its raw output is used, not a std:: distribution, so the sequence is the same everywhere.
#pragma once

#include <cstdint>

namespace pciesim {

// The output function alone: turns nearby seeds into unrelated ones.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The generator: each call advances the state by the golden-ratio increment.
inline std::uint64_t splitmix64_next(std::uint64_t &state) {
  state += 0x9e3779b97f4a7c15ull;
  return splitmix64(state);
}

} // namespace pciesim
