// Decisions as JSON: the shape `warden eval`, the server (/v1/decide) and the
// bindings print (docs/decisions.md, "Decision JSON").
//
// Written by hand into a caller-owned string, so a warm buffer makes
// rendering allocation-free: this is on every server request's path.
#ifndef WARDEN_RUNTIME_DECISION_JSON_H_
#define WARDEN_RUNTIME_DECISION_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "warden/engine.h"

namespace warden {

// Appends {"decision":…,"challenge":…,"rules":[{"name","policy","file","line"}],
// "reasons":[…],"obligations":[{"name","rule","values":{…}}],"advice":[…],
// "errors":[…],"risk":{…},"limits":[…]}. `tolerated` are the request
// problems lenient decoding ignored; they lead the "errors" list.
void AppendDecisionJson(const Engine& engine, const Decision& decision,
                        const std::vector<rt::RequestError>& tolerated, std::string* out);

// Every refusal, whichever stage refuses (the transport, a route, the
// /v1/check body parser, the request decoder), has this one shape:
// {"error":{"code","path","message"},"decision":"deny",…} — a bare deny whose
// decision members are AppendDecisionJson's (one writer of the decision
// shape), with `errors` in "errors". `path` is "" when the refusal is not
// about one place in the body (docs/api.md, "Errors").
void AppendRefusalJson(std::string_view code, std::string_view message, std::string_view path,
                       const std::vector<rt::RequestError>& errors, std::string* out);

// A request that could not be decoded: AppendRefusalJson with code
// "bad_request", the first problem's path and message, and every problem.
void AppendBadRequestJson(const std::vector<rt::RequestError>& errors, std::string* out);

// `text` as a JSON string literal (quoted, escaped; invalid UTF-8 bytes
// become U+FFFD so the output is always valid JSON).
void AppendJsonString(std::string_view text, std::string* out);
// `values` as a JSON array of strings.
void AppendJsonStringArray(const std::vector<std::string>& values, std::string* out);

}  // namespace warden

#endif  // WARDEN_RUNTIME_DECISION_JSON_H_
