// Structured logging to stderr (see log.h).
#include "runtime/server/log.h"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/decision_json.h"
#include "runtime/values/timestamp.h"

namespace warden::server {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};
std::mutex g_mutex;

}  // namespace

void SetLogFormat(LogFormat format) { g_format.store(format); }

void Log(std::string_view level, std::string_view message, std::initializer_list<LogField> fields) {
  const std::string time = values::TimestampMillisString(absl::ToUnixMillis(absl::Now()));
  std::string line;
  if (g_format.load() == LogFormat::kJson) {
    line.append("{\"time\":\"").append(time).append("\",\"level\":");
    AppendJsonString(level, &line);
    line.append(",\"msg\":");
    AppendJsonString(message, &line);
    for (const auto& [key, value] : fields) {
      line.push_back(',');
      AppendJsonString(key, &line);
      line.push_back(':');
      AppendJsonString(value, &line);
    }
    line.append("}\n");
  } else {
    line.append(time).append(" ").append(level).append(" ").append(message);
    for (const auto& [key, value] : fields) line.append(" ").append(key).append("=").append(value);
    line.push_back('\n');
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  for (size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
}

}  // namespace warden::server
