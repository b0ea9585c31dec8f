#include "models/common/latency_samples.h"

#include <algorithm>
#include <cmath>

namespace pciesim {
namespace {
// Log-linear buckets: values below 2^11 have their own bucket; above, each power of two is
// split into 1024 buckets, so a bucket is at most 1/1024 of its values wide.
constexpr unsigned kSubBits = 10;
constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
constexpr std::uint64_t kLinear = 2 * kSub;
constexpr std::size_t kBuckets = kLinear + (64 - kSubBits - 1) * kSub;

unsigned bit_length(std::uint64_t v) {
  unsigned n = 0;
  while (v) {
    ++n;
    v >>= 1;
  }
  return n;
}
} // namespace

std::size_t LatencySamples::bucket_of(std::uint64_t value) {
  if (value < kLinear)
    return static_cast<std::size_t>(value);
  unsigned shift = bit_length(value) - (kSubBits + 1); // value >> shift in [kSub, 2 kSub)
  return static_cast<std::size_t>(kLinear + (shift - 1) * kSub + ((value >> shift) - kSub));
}

std::uint64_t LatencySamples::bucket_low(std::size_t bucket) {
  if (bucket < kLinear)
    return bucket;
  std::uint64_t shift = (bucket - kLinear) / kSub + 1;
  return (kSub + (bucket - kLinear) % kSub) << shift;
}

std::uint64_t LatencySamples::bucket_width(std::size_t bucket) {
  return bucket < kLinear ? 1 : std::uint64_t{1} << ((bucket - kLinear) / kSub + 1);
}

void LatencySamples::push_back(std::int64_t sample_ps) {
  min_ps_ = count_ ? std::min(min_ps_, sample_ps) : sample_ps;
  max_ps_ = count_ ? std::max(max_ps_, sample_ps) : sample_ps;
  ++count_;
  sum_ps_ += static_cast<long double>(sample_ps);
  if (!histogram_.empty()) {
    ++histogram_[bucket_of(static_cast<std::uint64_t>(std::max<std::int64_t>(0, sample_ps)))];
    return;
  }
  samples_ps_.push_back(sample_ps);
  sorted_ = false;
  if (samples_ps_.size() > exact_cap_)
    move_to_histogram();
}

void LatencySamples::move_to_histogram() {
  histogram_.assign(kBuckets, 0);
  for (std::int64_t s : samples_ps_)
    ++histogram_[bucket_of(static_cast<std::uint64_t>(std::max<std::int64_t>(0, s)))];
  std::vector<std::int64_t>().swap(samples_ps_);
}

std::int64_t LatencySamples::percentile_ps(double q) const {
  if (count_ == 0)
    return 0;
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::min(std::max<std::size_t>(rank, 1), count_);
  if (histogram_.empty()) {
    if (!sorted_) {
      std::sort(samples_ps_.begin(), samples_ps_.end());
      sorted_ = true;
    }
    return samples_ps_[rank - 1];
  }
  std::size_t seen = 0;
  for (std::size_t b = 0; b < histogram_.size(); ++b) {
    seen += histogram_[b];
    if (seen >= rank) {
      // The middle of the bucket, kept within the samples' range.
      auto middle = static_cast<std::int64_t>(bucket_low(b) + bucket_width(b) / 2);
      return std::min(std::max(middle, min_ps_), max_ps_);
    }
  }
  return max_ps_;
}

} // namespace pciesim
