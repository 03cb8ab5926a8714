#include "runtime/server/sources.h"

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/server/log.h"
#include "runtime/values/timestamp.h"

namespace warden::server {
namespace {

constexpr auth::UpdateSource kSources[] = {
#define WARDEN_SOURCE_VALUE(id, name) auth::UpdateSource::id,
    WARDEN_UPDATE_SOURCES(WARDEN_SOURCE_VALUE)
#undef WARDEN_SOURCE_VALUE
};

// This abseil's string_view is its own type.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

nlohmann::json Time(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return nullptr;
  return values::TimestampMillisString(absl::ToUnixMillis(*t));
}

}  // namespace

void LogSourceEvents(auth::SourceReports& reports) {
  for (const auth::SourceEvent& event : reports.TakeEvents()) {
    const std::string_view source = auth::UpdateSourceName(event.source);
    Log("warn",
        event.source == auth::UpdateSource::kState
            ? "state database read or write failed; the server keeps its state in memory"
            : "update refused; the last good version keeps serving",
        {{"source", source}, {"path", event.path}, {"error", event.error}});
  }
}

void AppendSourceMetrics(const auth::SourceReports& reports, std::string* out) {
  const auto refused = reports.RefusedBySource();
  absl::StrAppend(out,
                  "# HELP warden_refused_updates_total Updates of a JWKS file, IP list, GeoIP "
                  "database or the state database that were refused (the last good version "
                  "kept serving), by source.\n"
                  "# TYPE warden_refused_updates_total counter\n");
  for (auth::UpdateSource source : kSources) {
    absl::StrAppend(out, "warden_refused_updates_total{source=\"",
                    Av(auth::UpdateSourceName(source)), "\"} ",
                    refused[static_cast<size_t>(source)], "\n");
  }
  absl::StrAppend(out,
                  "# HELP warden_state_write_errors_total Writes of the signal tables to the "
                  "state database that failed.\n"
                  "# TYPE warden_state_write_errors_total counter\n"
                  "warden_state_write_errors_total ",
                  reports.state_write_errors(), "\n");
}

nlohmann::json SourcesJson(const auth::SourceReports& reports) {
  nlohmann::json out = nlohmann::json::object();
  for (auth::UpdateSource source : kSources) {
    out[std::string(auth::UpdateSourceName(source))] = nlohmann::json::array();
  }
  for (const auth::SourceStatus& s : reports.Snapshot()) {
    out[std::string(auth::UpdateSourceName(s.source))].push_back({
        {"path", s.path},
        {"last_ok", Time(s.last_ok)},
        {"last_error",
         s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)},
        {"last_error_at", Time(s.last_error_at)},
        {"refused", s.refused},
    });
  }
  return out;
}

}  // namespace warden::server
