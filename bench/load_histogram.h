// A log-linear latency histogram for the load generator (in the manner of
// HdrHistogram): values below 128 have a bucket each, and every power of two
// above is split into 128 linear buckets, so a reported percentile is within
// 0.8% of the recorded value. Recording is a few instructions and never
// allocates; histograms of several threads merge by adding buckets.
#ifndef WARDEN_BENCH_LOAD_HISTOGRAM_H_
#define WARDEN_BENCH_LOAD_HISTOGRAM_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace warden::bench {

class LogHistogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  LogHistogram() : buckets_(kBuckets, 0) {}

  void Record(uint64_t value) {
    ++buckets_[Index(value)];
    ++count_;
    sum_ += static_cast<double>(value);
    max_ = std::max(max_, value);
    min_ = std::min(min_, value);
  }

  void Merge(const LogHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ == 0 ? 0 : max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

  // The value below which `percent` % of the recorded values fall: the
  // middle of its bucket, never above the largest value recorded.
  uint64_t Percentile(double percent) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return std::clamp(Middle(i), min_, max_);
    }
    return max_;
  }

  static size_t Index(uint64_t value) {
    if (value < kSub) return static_cast<size_t>(value);
    const int exponent = 63 - __builtin_clzll(value);
    const int shift = exponent - kSubBits;
    return (static_cast<size_t>(shift + 1) << kSubBits) +
           static_cast<size_t>((value >> shift) - kSub);
  }

  static uint64_t Middle(size_t index) {
    if (index < kSub) return index;
    const int shift = static_cast<int>(index >> kSubBits) - 1;
    const uint64_t lower = ((index & (kSub - 1)) + kSub) << shift;
    return lower + ((uint64_t{1} << shift) >> 1);
  }

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace warden::bench

#endif  // WARDEN_BENCH_LOAD_HISTOGRAM_H_
