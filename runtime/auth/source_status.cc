#include "runtime/auth/source_status.h"

#include <utility>

namespace warden::auth {

std::string_view UpdateSourceName(UpdateSource source) {
  switch (source) {
#define WARDEN_SOURCE_NAME(id, name) \
  case UpdateSource::id:             \
    return name;
    WARDEN_UPDATE_SOURCES(WARDEN_SOURCE_NAME)
#undef WARDEN_SOURCE_NAME
  }
  return "unknown";
}

SourceStatus& SourceReports::Entry(UpdateSource source, const std::string& path) {
  for (SourceStatus& entry : entries_) {
    if (entry.source == source && entry.path == path) return entry;
  }
  SourceStatus& entry = entries_.emplace_back();
  entry.source = source;
  entry.path = path;
  return entry;
}

void SourceReports::Loaded(UpdateSource source, const std::string& path, absl::Time now) {
  absl::MutexLock lock(&mu_);
  SourceStatus& entry = Entry(source, path);
  entry.last_ok = now;
  entry.last_error.clear();
}

void SourceReports::Refused(UpdateSource source, const std::string& path, const absl::Status& error,
                            absl::Time now) {
  absl::MutexLock lock(&mu_);
  SourceStatus& entry = Entry(source, path);
  entry.last_error_at = now;
  entry.last_error = std::string(error.message());
  ++entry.refused;
  ++refused_[static_cast<size_t>(source)];
  if (events_.size() < kMaxPendingEvents) events_.push_back({source, path, entry.last_error});
}

void SourceReports::StateWriteFailed(const std::string& path, const absl::Status& error,
                                     absl::Time now) {
  Refused(UpdateSource::kState, path, error, now);
  absl::MutexLock lock(&mu_);
  ++state_write_errors_;
}

std::vector<SourceStatus> SourceReports::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return entries_;
}

std::array<int64_t, kUpdateSourceCount> SourceReports::RefusedBySource() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

int64_t SourceReports::state_write_errors() const {
  absl::MutexLock lock(&mu_);
  return state_write_errors_;
}

std::vector<SourceEvent> SourceReports::TakeEvents() {
  absl::MutexLock lock(&mu_);
  return std::exchange(events_, {});
}

}  // namespace warden::auth
