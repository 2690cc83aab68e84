#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace alliance::loadgen {
namespace {

// Values below 2^(kSubBits+1) get a bucket each; above that every power of two is
// split into 2^kSubBits buckets, so a bucket is at most 1/128 of its value wide.
constexpr int kSubBits = 7;
constexpr std::uint64_t kSubCount = std::uint64_t{1} << kSubBits;
constexpr int kMaxBits = 64;
constexpr std::size_t kBucketCount = (kMaxBits - kSubBits) * kSubCount + kSubCount;

std::size_t bucket_of(std::uint64_t v) {
  if (v < 2 * kSubCount) return static_cast<std::size_t>(v);
  int msb = std::bit_width(v) - 1;   // >= kSubBits + 1
  int shift = msb - kSubBits;        // v >> shift is in [kSubCount, 2 * kSubCount)
  return static_cast<std::size_t>(shift) * kSubCount + static_cast<std::size_t>(v >> shift);
}

// The largest value that lands in `bucket`.
std::uint64_t upper_edge(std::size_t bucket) {
  if (bucket < 2 * kSubCount) return bucket;
  std::uint64_t shift = bucket / kSubCount - 1;
  std::uint64_t mantissa = bucket % kSubCount + kSubCount;
  return ((mantissa + 1) << shift) - 1;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

void LatencyHistogram::record(std::chrono::nanoseconds latency) {
  auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0));
  ++buckets_[bucket_of(v)];
  ++count_;
  max_ = std::max(max_, v);
  sum_ += static_cast<long double>(v);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

std::chrono::nanoseconds LatencyHistogram::percentile(double percentile) const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  double wanted = std::ceil(static_cast<double>(count_) * std::clamp(percentile, 0.0, 100.0) / 100.0);
  auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::chrono::nanoseconds(std::min(upper_edge(i), max_));
  }
  return std::chrono::nanoseconds(max_);
}

std::chrono::nanoseconds LatencyHistogram::mean() const {
  if (count_ == 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(sum_ / static_cast<long double>(count_)));
}

}  // namespace alliance::loadgen
