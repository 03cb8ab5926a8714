// Decision JSON, written by hand (see decision_json.h for why).
#include "runtime/decision_json.h"

#include <charconv>
#include <cstdint>

namespace warden {
namespace {

void AppendUint(uint64_t n, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  out->append(buffer, end);
}

void AppendInt(int64_t n, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
  out->append(buffer, end);
}

// The length of the valid UTF-8 sequence at text[i], or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  uint32_t code = lead & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

// An obligation's value: the JSON the engine rendered (ObligationArg::json).
void AppendObligationValue(const bc::Program& /*program*/, const Obligation& /*obligation*/,
                           const ObligationArg& arg, std::string* out) {
  out->append(arg.json);
}

void AppendExtras(const Engine* engine, const Decision& decision, bool obligations,
                  std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const Obligation& o : decision.obligations) {
    if (o.is_obligation != obligations) continue;
    if (!first) out->push_back(',');
    first = false;
    out->append("{\"name\":");
    AppendJsonString(o.name, out);
    out->append(",\"rule\":");
    AppendJsonString(o.rule, out);
    out->append(",\"values\":{");
    for (uint32_t a = o.first_arg; a < o.first_arg + o.arg_count && a < decision.args.size(); ++a) {
      if (a > o.first_arg) out->push_back(',');
      AppendJsonString(decision.args[a].key, out);
      out->push_back(':');
      AppendObligationValue(engine->program(), o, decision.args[a], out);
    }
    out->append("}}");
  }
  out->push_back(']');
}

void AppendRequestError(const rt::RequestError& error, std::string* out) {
  out->append("{\"code\":");
  AppendJsonString(rt::RequestErrorCategory(error.code), out);
  out->append(",\"rule\":\"\",\"path\":");
  AppendJsonString(error.json_path, out);
  out->append(",\"message\":");
  AppendJsonString(error.message, out);
  out->push_back('}');
}

void AppendEvalError(const Engine& engine, const DecisionError& error, std::string* out) {
  out->append("{\"code\":");
  AppendJsonString(rt::EvalErrorCode(error.code), out);
  out->append(",\"rule\":");
  AppendJsonString(error.where, out);
  // Worded as the reference evaluator and `warden eval` word it (errors are
  // rare: the string is built only for them).
  out->append(",\"message\":");
  AppendJsonString(engine.ErrorMessage(error), out);
  // Where the failing expression is written (DecisionError::file, line).
  out->append(",\"file\":");
  AppendJsonString(error.file, out);
  out->append(",\"line\":");
  AppendUint(error.line, out);
  out->push_back('}');
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    // Copy the longest run that needs no escaping in one append.
    size_t run = i;
    while (run < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out->append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD
        ++i;
      } else {
        out->append(text.data() + i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
    ++i;
  }
  out->push_back('"');
}

void AppendJsonStringArray(const std::vector<std::string>& values, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(values[i], out);
  }
  out->push_back(']');
}

namespace {

// The members of a decision after the opening brace. `engine` may be null
// for a decision without errors and limits (a bad request's bare deny).
void AppendDecisionMembers(const Engine* engine, const Decision& decision,
                           const std::vector<rt::RequestError>& tolerated, std::string* out) {
  out->append("\"decision\":\"");
  out->append(rt::OutcomeName(decision.outcome));
  out->append("\",\"challenge\":");
  if (decision.outcome == rt::Outcome::kStepUp) {
    AppendJsonString(decision.challenge, out);
  } else {
    out->append("null");
  }
  out->append(",\"rules\":[");
  for (size_t i = 0; i < decision.rules.size(); ++i) {
    const DecidingRule& rule = decision.rules[i];
    if (i > 0) out->push_back(',');
    out->append("{\"name\":");
    AppendJsonString(rule.name, out);
    out->append(",\"policy\":");
    AppendJsonString(rule.policy, out);
    out->append(",\"file\":");
    AppendJsonString(rule.file, out);
    out->append(",\"line\":");
    AppendUint(rule.line, out);
    out->push_back('}');
  }
  out->append("],\"reasons\":[");
  for (size_t i = 0; i < decision.reasons.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(decision.reasons[i], out);
  }
  out->append("],\"obligations\":");
  AppendExtras(engine, decision, /*obligations=*/true, out);
  out->append(",\"advice\":");
  AppendExtras(engine, decision, /*obligations=*/false, out);
  out->append(",\"errors\":[");
  bool first = true;
  for (const rt::RequestError& error : tolerated) {
    if (!first) out->push_back(',');
    first = false;
    AppendRequestError(error, out);
  }
  for (const DecisionError& error : decision.errors) {
    if (!first) out->push_back(',');
    first = false;
    AppendEvalError(*engine, error, out);
  }
  out->append("],\"risk\":{");
  for (size_t i = 0; i < decision.risks.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(decision.risks[i].first, out);
    out->push_back(':');
    AppendInt(decision.risks[i].second, out);
  }
  out->append("},\"limits\":[");
  for (size_t i = 0; i < decision.limits_read.size(); ++i) {
    if (i > 0) out->push_back(',');
    const uint32_t limit = decision.limits_read[i];
    const bc::Program& program = engine->program();
    AppendJsonString(limit < program.limits.size() ? std::string_view(program.limits[limit].name)
                                                   : std::string_view(),
                     out);
  }
  out->append("]}");
}

}  // namespace

void AppendDecisionJson(const Engine& engine, const Decision& decision,
                        const std::vector<rt::RequestError>& tolerated, std::string* out) {
  out->push_back('{');
  AppendDecisionMembers(&engine, decision, tolerated, out);
}

void AppendRefusalJson(std::string_view code, std::string_view message, std::string_view path,
                       const std::vector<rt::RequestError>& errors, std::string* out) {
  out->append("{\"error\":{\"code\":");
  AppendJsonString(code, out);
  out->append(",\"path\":");
  AppendJsonString(path, out);
  out->append(",\"message\":");
  AppendJsonString(message, out);
  out->append("},");
  static const Decision* const kDeny = new Decision();  // a bare deny, never destroyed
  AppendDecisionMembers(nullptr, *kDeny, errors, out);
}

void AppendBadRequestJson(const std::vector<rt::RequestError>& errors, std::string* out) {
  if (errors.empty()) return AppendRefusalJson("bad_request", "malformed request", "", errors, out);
  AppendRefusalJson("bad_request", errors[0].message, errors[0].json_path, errors, out);
}

}  // namespace warden
