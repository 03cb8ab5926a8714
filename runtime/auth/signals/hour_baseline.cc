#include "runtime/auth/signals/hour_baseline.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

using signals_internal::After;

constexpr int64_t kMaxSamples = int64_t{1} << 40;

int HourOf(absl::Time time, const absl::TimeZone& zone) {
  return static_cast<int>(absl::ToCivilHour(time, zone).hour());
}

}  // namespace

HourBaselines::HourBaselines(HourPolicy policy, size_t max_entries)
    : policy_(policy), table_(max_entries) {
  if (!(policy_.decay_per_day > 0 && policy_.decay_per_day <= 1)) policy_.decay_per_day = 1;
  policy_.min_samples = std::max(0, policy_.min_samples);
}

std::optional<double> HourBaselines::Share(std::string_view subject, absl::Time now,
                                           const absl::TimeZone& zone) const {
  int hour = HourOf(now, zone);
  return table_.Read(subject, [&](const Baseline* baseline) -> std::optional<double> {
    if (baseline == nullptr || baseline->samples < policy_.min_samples || baseline->samples == 0)
      return std::nullopt;
    // The decay since `updated` scales every bin alike, so it cancels out of
    // the share: no need to apply it here.
    double total = 0;
    for (double count : baseline->bins) total += count;
    if (!(total > 0)) return std::nullopt;
    double near =
        baseline->bins[(hour + 23) % 24] + baseline->bins[hour] + baseline->bins[(hour + 1) % 24];
    return near / total;
  });
}

bool HourBaselines::Unusual(std::string_view subject, absl::Time now,
                            const absl::TimeZone& zone) const {
  std::optional<double> share = Share(subject, now, zone);
  return share.has_value() && *share < policy_.unusual_below;
}

void HourBaselines::Record(std::string_view subject, absl::Time now, const absl::TimeZone& zone) {
  int hour = HourOf(now, zone);
  table_.Update(subject, [&](Baseline& baseline, bool) {
    if (now > baseline.updated) {
      if (baseline.updated != absl::InfinitePast() && policy_.decay_per_day < 1) {
        double days = absl::FDivDuration(now - baseline.updated, absl::Hours(24));
        double factor = std::pow(policy_.decay_per_day, days);
        for (double& count : baseline.bins) count *= factor;
      }
      baseline.updated = now;
    }
    // An out-of-order (older) sign-in counts without decay: a slight
    // overweight, bounded by how late requests finish.
    baseline.bins[hour] += 1;
    baseline.samples = std::min(baseline.samples + 1, kMaxSamples);
    return After::kKeep;
  });
}

int64_t HourBaselines::Samples(std::string_view subject) const {
  return table_.Read(subject,
                     [](const Baseline* baseline) { return baseline ? baseline->samples : 0; });
}

void HourBaselines::Forget(std::string_view subject) { table_.Erase(subject); }

std::string HourBaselines::Encode(const Baseline& baseline) {
  std::string value =
      absl::StrCat("1|", baseline.samples, "|", signals_internal::TimeText(baseline.updated), "|");
  for (int i = 0; i < 24; ++i) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", baseline.bins[i]);
    absl::StrAppend(&value, i == 0 ? "" : ",", buffer);
  }
  return value;
}

void HourBaselines::Import(std::string_view key, std::string_view value) {
  std::vector<std::string_view> fields = signals_internal::SplitFields(value);
  Baseline baseline;
  bool ok = !key.empty() && fields.size() == 4 && fields[0] == "1" &&
            signals_internal::ParseInt64(fields[1], &baseline.samples) && baseline.samples >= 0 &&
            baseline.samples <= kMaxSamples &&
            signals_internal::ParseTime(fields[2], &baseline.updated);
  if (ok) {
    std::vector<std::string_view> bins = signals_internal::SplitFields(fields[3], ',');
    ok = bins.size() == 24;
    for (size_t i = 0; ok && i < 24; ++i) {
      ok = signals_internal::ParseDouble(bins[i], &baseline.bins[i]) && baseline.bins[i] >= 0 &&
           baseline.bins[i] < 1e300;
    }
  }
  if (!ok) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  table_.Put(key, baseline);
}

StateRows HourBaselines::TakeDirty() { return table_.TakeDirty(&HourBaselines::Encode); }
StateRows HourBaselines::Snapshot() const { return table_.Snapshot(&HourBaselines::Encode); }

}  // namespace warden::auth
