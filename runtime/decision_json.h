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

// A request that could not be decoded: {"error":{"code":"bad_request","path",
// "message"},"decision":"deny",…} with every problem in "errors". The
// decision members are AppendDecisionJson's, of a bare deny: there is one
// writer of the decision shape.
void AppendBadRequestJson(const std::vector<rt::RequestError>& errors, std::string* out);

// `text` as a JSON string literal (quoted, escaped; invalid UTF-8 bytes
// become U+FFFD so the output is always valid JSON).
void AppendJsonString(std::string_view text, std::string* out);
// `values` as a JSON array of strings.
void AppendJsonStringArray(const std::vector<std::string>& values, std::string* out);

}  // namespace warden

#endif  // WARDEN_RUNTIME_DECISION_JSON_H_
