#include "compiler/diagnostic_render.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace warden {
namespace {

// ordered_json keeps the keys in the order written, so the output reads the
// way docs/cli.md shows it.
using Json = nlohmann::ordered_json;

constexpr char kSarifSchema[] = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr char kSarifVersion[] = "2.1.0";

// Where a diagnostic points, resolved to what the renderers print.
struct Where {
  const SourceFile* file = nullptr;  // null: the diagnostic has no file
  bool has_region = false;           // false: file-level
  LineCol start;
  LineCol end;  // exclusive: the position just after the span
};

Where Resolve(const Diagnostic& d, const SourceManager& sources) {
  Where where;
  if (!d.span.valid() || d.span.file >= sources.size()) return where;
  where.file = &sources.file(d.span.file);
  if (d.span.begin == UINT32_MAX) return where;
  where.has_region = true;
  where.start = where.file->Locate(d.span.begin);
  where.end = where.file->Locate(std::max(d.span.begin, d.span.end));
  return where;
}

std::string Dump(const Json& json) {
  // Replace invalid UTF-8 rather than throw: paths and quoted user text may
  // hold any bytes.
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// SARIF's levels are spelled like Warden's severities.
const char* SarifLevel(Severity severity) { return SeverityName(severity); }

bool IsUriPathChar(unsigned char c) {
  // RFC 3986 pchar plus '/': unreserved, sub-delims, ':' and '@'.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':  // unreserved
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':  // sub-delims
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string PathToUri(const std::string& path) {
  std::string slashed = path;
  std::replace(slashed.begin(), slashed.end(), '\\', '/');
  std::string prefix;
  if (!slashed.empty() && slashed[0] == '/') {
    prefix = "file://";  // "/a/b" -> "file:///a/b"
  } else if (slashed.size() >= 2 && slashed[1] == ':' &&
             ((slashed[0] >= 'A' && slashed[0] <= 'Z') ||
              (slashed[0] >= 'a' && slashed[0] <= 'z'))) {
    prefix = "file:///";  // "C:/a" -> "file:///C:/a"
  } else {
    while (slashed.size() > 2 && slashed.compare(0, 2, "./") == 0) slashed.erase(0, 2);
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = prefix;
  for (size_t i = 0; i < slashed.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(slashed[i]);
    // A ':' in a relative path's first segment would read as a scheme.
    bool first_segment = prefix.empty() && slashed.find('/') > i;
    if (IsUriPathChar(c) && !(c == ':' && first_segment)) {
      uri.push_back(static_cast<char>(c));
    } else {
      uri.push_back('%');
      uri.push_back(kHex[c >> 4]);
      uri.push_back(kHex[c & 0xF]);
    }
  }
  return uri;
}

std::string RenderJson(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources) {
  Json list = Json::array();
  size_t errors = 0;
  size_t warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::kError) ++errors;
    if (d.severity == Severity::kWarning) ++warnings;
    const DiagCodeInfo& info = Info(d.code);
    Where where = Resolve(d, sources);
    Json item;
    item["file"] = where.file != nullptr ? Json(where.file->path()) : Json(nullptr);
    if (where.has_region) {
      item["line"] = where.start.line;
      item["column"] = where.start.column;
      item["end_line"] = where.end.line;
      item["end_column"] = where.end.column;
    } else {
      item["line"] = nullptr;
      item["column"] = nullptr;
      item["end_line"] = nullptr;
      item["end_column"] = nullptr;
    }
    item["severity"] = SeverityName(d.severity);
    item["code"] = info.code;
    item["slug"] = info.slug;
    item["message"] = d.message;
    item["help"] = d.help.empty() ? Json(nullptr) : Json(d.help);
    list.push_back(std::move(item));
  }
  Json root;
  root["diagnostics"] = std::move(list);
  root["errors"] = errors;
  root["warnings"] = warnings;
  return Dump(root);
}

std::string RenderSarif(const std::vector<Diagnostic>& diagnostics, const SourceManager& sources) {
  Json rules = Json::array();
  for (const DiagCodeInfo& info : AllDiagCodes()) {
    Json rule;
    rule["id"] = info.code;
    rule["name"] = info.slug;
    rule["shortDescription"] = {{"text", info.summary}};
    rule["defaultConfiguration"] = {{"level", SarifLevel(info.severity)}};
    rules.push_back(std::move(rule));
  }

  Json results = Json::array();
  for (const Diagnostic& d : diagnostics) {
    const DiagCodeInfo& info = Info(d.code);
    Where where = Resolve(d, sources);
    Json result;
    result["ruleId"] = info.code;
    // AllDiagCodes() is in enum order, so the enum value is the rule's index.
    result["ruleIndex"] = static_cast<size_t>(d.code);
    result["level"] = SarifLevel(d.severity);
    std::string text = d.message;
    if (!d.help.empty()) text += "\nhelp: " + d.help;
    result["message"] = {{"text", std::move(text)}};
    Json locations = Json::array();
    if (where.file != nullptr) {
      Json physical;
      physical["artifactLocation"] = {{"uri", PathToUri(where.file->path())}};
      if (where.has_region) {
        physical["region"] = {{"startLine", where.start.line},
                              {"startColumn", where.start.column},
                              {"endLine", where.end.line},
                              {"endColumn", where.end.column}};
      }
      Json location;
      location["physicalLocation"] = std::move(physical);
      locations.push_back(std::move(location));
    }
    result["locations"] = std::move(locations);
    results.push_back(std::move(result));
  }

  Json driver;
  driver["name"] = "warden";
  driver["version"] = kWardenVersion;
  driver["rules"] = std::move(rules);
  Json run;
  run["tool"] = {{"driver", std::move(driver)}};
  // Our columns count code points, not SARIF's default UTF-16 code units.
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = std::move(results);
  Json root;
  root["$schema"] = kSarifSchema;
  root["version"] = kSarifVersion;
  root["runs"] = Json::array({std::move(run)});
  return Dump(root);
}

}  // namespace warden
