#pragma once
// LatencyHistogram: log-linear buckets (HdrHistogram-style, < 1% relative error)
// over nanoseconds. Plain data: each load thread owns one and the results are
// merged once the threads have joined.
#include <chrono>
#include <cstdint>
#include <vector>

namespace alliance::loadgen {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(std::chrono::nanoseconds latency);
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  // The smallest recorded value v such that at least `percentile`% of samples are <= v
  // (reported as the upper edge of its bucket, so never optimistic). 0 when empty.
  std::chrono::nanoseconds percentile(double percentile) const;
  std::chrono::nanoseconds max() const { return std::chrono::nanoseconds(max_); }
  std::chrono::nanoseconds mean() const;

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace alliance::loadgen
