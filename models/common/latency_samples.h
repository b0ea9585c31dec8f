// Per-transfer latency samples with bounded memory: exact up to a cap, a histogram beyond.
// Mean and max stay exact at any count; nearest-rank percentiles are exact while every sample
// is kept, and within 1/1024 (0.1 %) of the true sample once the histogram takes over, so a
// run of millions of transfers costs at most a few MiB here (docs/performance.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pciesim {

class LatencySamples {
public:
  // Samples kept exactly; 1 Mi samples are 8 MiB.
  static constexpr std::size_t kDefaultExactCap = std::size_t{1} << 20;
  explicit LatencySamples(std::size_t exact_cap = kDefaultExactCap) : exact_cap_(exact_cap) {}

  void push_back(std::int64_t sample_ps);
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool exact() const { return histogram_.empty(); }

  // Mean of all samples; exact (the sum is kept in a long double, exact below 2^64 ps).
  long double mean_ps() const { return count_ ? sum_ps_ / static_cast<long double>(count_) : 0; }
  std::int64_t max_ps() const { return max_ps_; }
  // Nearest-rank percentile, q in (0, 1]: the sample of rank ceil(q * size()).
  std::int64_t percentile_ps(double q) const;

private:
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_low(std::size_t bucket);
  static std::uint64_t bucket_width(std::size_t bucket);
  void move_to_histogram();

  std::size_t exact_cap_;
  std::size_t count_ = 0;
  long double sum_ps_ = 0;
  std::int64_t min_ps_ = 0, max_ps_ = 0;
  mutable std::vector<std::int64_t> samples_ps_; // sorted lazily by percentile_ps
  mutable bool sorted_ = true;
  std::vector<std::uint64_t> histogram_; // counts per log-linear bucket, once past the cap
};

} // namespace pciesim
