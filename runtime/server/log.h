// Structured logs: one JSON object (or a plain text line) per event on
// stderr, written whole under a lock so lines from threads never interleave.
#ifndef WARDEN_RUNTIME_SERVER_LOG_H_
#define WARDEN_RUNTIME_SERVER_LOG_H_

#include <initializer_list>
#include <string_view>
#include <utility>

namespace warden::server {

enum class LogFormat { kJson, kText };
void SetLogFormat(LogFormat format);

using LogField = std::pair<std::string_view, std::string_view>;
// level: "info", "warn", "error".
void Log(std::string_view level, std::string_view message,
         std::initializer_list<LogField> fields = {});

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_LOG_H_
