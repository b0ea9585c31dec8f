// LatencySamples: exact statistics while under the cap, bounded error beyond it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "models/common/latency_samples.h"

namespace pciesim {
namespace {

std::int64_t nearest_rank(std::vector<std::int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  std::size_t k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(k, 1) - 1];
}

std::vector<std::int64_t> spread_samples(std::size_t n) {
  std::vector<std::int64_t> v;
  std::uint64_t x = 12345;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v.push_back(static_cast<std::int64_t>(100000 + (x >> 40) % 5000000)); // 0.1 .. 5.1 us
  }
  return v;
}

// Pushes every sample; returns their exact sum.
long double push_all(LatencySamples &s, const std::vector<std::int64_t> &v) {
  long double sum = 0;
  for (std::int64_t x : v) {
    s.push_back(x);
    sum += x;
  }
  return sum;
}

TEST(LatencySamples, ExactUnderTheCap) {
  std::vector<std::int64_t> v = spread_samples(1000);
  LatencySamples s(1000);
  long double sum = push_all(s, v);
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(s.mean_ps(), sum / 1000.0L);
  EXPECT_EQ(s.max_ps(), *std::max_element(v.begin(), v.end()));
  for (double q : {0.01, 0.5, 0.99, 1.0})
    EXPECT_EQ(s.percentile_ps(q), nearest_rank(v, q)) << q;
}

TEST(LatencySamples, HistogramBeyondTheCapKeepsMeanAndMaxExactAndPercentilesClose) {
  std::vector<std::int64_t> v = spread_samples(20000);
  LatencySamples s(1000);
  long double sum = push_all(s, v);
  EXPECT_FALSE(s.exact());
  EXPECT_EQ(s.mean_ps(), sum / 20000.0L);
  EXPECT_EQ(s.max_ps(), *std::max_element(v.begin(), v.end()));
  for (double q : {0.01, 0.5, 0.99, 1.0}) {
    double exact = static_cast<double>(nearest_rank(v, q));
    EXPECT_NEAR(static_cast<double>(s.percentile_ps(q)), exact, exact / 1024.0) << q;
  }
}

TEST(LatencySamples, SmallValuesAreExactInTheHistogram) {
  LatencySamples s(4);
  for (std::int64_t x : {5, 1, 7, 3, 2000, 9})
    s.push_back(x);
  EXPECT_EQ(s.percentile_ps(0.5), 5);
  EXPECT_EQ(s.percentile_ps(1.0), 2000);
}

} // namespace
} // namespace pciesim
