// Requests: what a decision is asked about, bound to one CheckedProgram.
//
// A Request holds one value per AttributeId of the program (absent when the
// request did not give it and it has no built-in default), the action and
// resource type as indices, the active JIT grants, the limit counts and the
// data values. Values are EvalValues: a small self-contained value type that
// the reference evaluator (reference_evaluator.h) computes with.
//
// Two decoders build a Request, sharing one implementation:
//   - DecodeRequestJson: a live request as JSON text
//       {"subject": {...}, "action": "approve", "resource": {"type": "payment", ...},
//        "context": {...}, "jit": ["break_glass"], "limits": {"model_calls": 12}}
//     with size and depth limits (RequestOptions). Attributes the schema does
//     not declare are ignored and a value of the wrong type is treated as
//     absent and reported; in strict mode both are errors.
//   - DecodeTestRequest: a test block's `given` and `data` (ast::JsonValue),
//     always strict (the checker already validated them).
// Built-in attributes the request omits take the documented fail-safe
// defaults (docs/language.md, "Built-in schema"). Nothing here throws.
#ifndef WARDEN_CLI_REFERENCE_REQUEST_H_
#define WARDEN_CLI_REFERENCE_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compiler/ast.h"
#include "compiler/checked.h"
#include "compiler/source.h"

namespace warden {

// A run-time value. Sets are kept sorted (by CompareValues) and unique.
struct EvalValue {
  enum class Kind : uint8_t {
    kBool,
    kInt,
    kDecimal,    // i: scaled by ast::kDecimalScale
    kString,     // s
    kDuration,   // i: milliseconds
    kTimestamp,  // i: milliseconds since the Unix epoch
    kIp,         // ip
    kEnum,       // i: member index (-1: an undeclared action); s: the member's name
    kSet,        // elements
    kRecord,     // names[k] -> elements[k]; a record attribute's value only marks presence
  };
  Kind kind = Kind::kBool;
  bool b = false;
  int64_t i = 0;
  std::string s;
  IpNetwork ip;
  std::vector<EvalValue> elements;
  std::vector<std::string> names;

  static EvalValue Bool(bool value);
  static EvalValue Int(int64_t value);
  static EvalValue Decimal(int64_t scaled);
  static EvalValue String(std::string value);
  static EvalValue Duration(int64_t millis);
  static EvalValue Timestamp(int64_t millis);
  static EvalValue Ip(const IpNetwork& network);
  static EvalValue Enum(int index, std::string name);
  static EvalValue Set(std::vector<EvalValue> elements);  // sorts and removes duplicates
  static EvalValue Record();
};

// A total order over values of one type (sets and records compare
// element-wise); values of different kinds order by kind.
int CompareValues(const EvalValue& a, const EvalValue& b);
bool operator==(const EvalValue& a, const EvalValue& b);

// The value as policy text would show it: "10.5", "\"ops\"", "15m", ["a", "b"].
std::string FormatValue(const EvalValue& value);

// The value as decisions print it in JSON: numbers for int and decimal,
// true/false, strings for strings, enum members, durations ("15m"),
// timestamps (RFC 3339, UTC) and IPs, arrays for sets, objects for records.
// The VM writes the same (warden::ObligationArg::json).
nlohmann::json ValueJson(const EvalValue& value);

// A compile-time constant as a run-time value.
EvalValue FromConstant(const Value& value);

// A problem with a request, at a JSON path such as `subject.auth.mfa` or
// `resource.tags[2]`. Codes: bad_request (malformed or too large; the request
// cannot be evaluated), unknown_attribute, wrong_type, unknown_action,
// unknown_resource_type, unknown_jit_profile, unknown_limit, missing_data.
struct RequestError {
  std::string code;
  std::string path;
  std::string message;
  Span span;  // for test requests: where the value was written
};

struct RequestOptions {
  static constexpr size_t kDefaultMaxBytes = 1 << 20;
  static constexpr int kDefaultMaxDepth = 32;
  static constexpr size_t kDefaultMaxSetElements = 10000;
  size_t max_bytes = kDefaultMaxBytes;               // JSON text size
  int max_depth = kDefaultMaxDepth;                  // nesting of JSON objects and arrays
  size_t max_set_elements = kDefaultMaxSetElements;  // per array
  // Unknown attributes, unknown JIT profiles or limits and wrongly typed
  // values are errors (else they are ignored or treated as absent, and
  // reported as warnings in `DecodedRequest::errors`).
  bool strict = false;
  // The value of `context.time` when the request omits it (ms since the
  // epoch); unset: the current time.
  std::optional<int64_t> now_millis;
};

// The time a test request runs at when it omits `context.time`: Monday
// 2026-01-05T12:00:00Z, so that test results never depend on the clock.
inline constexpr int64_t kDefaultTestTimeMillis = 1767614400000;

struct Request {
  std::vector<std::optional<EvalValue>> attributes;  // by AttributeId
  std::string action_name;
  int action = -1;  // index into CheckedProgram::actions; -1: undeclared
  std::string resource_type_name;
  int resource_type = -1;       // index into resource_types; -1: undeclared
  std::vector<int> jit_grants;  // indices into jit_profiles with an active grant
  // Requests already counted per limit (by limit index); nullopt: the counter
  // store could not be read (reading the limit is then an error).
  std::vector<std::optional<int64_t>> limit_counts;
  std::vector<std::optional<EvalValue>> data;  // by data index; nullopt: not given
};

struct DecodedRequest {
  Request request;
  // When `ok`, problems that were tolerated (lenient mode); otherwise the
  // reasons the request cannot be evaluated.
  std::vector<RequestError> errors;
  bool ok = false;
};

// A request as JSON text (see the file comment).
DecodedRequest DecodeRequestJson(const CheckedProgram& program, std::string_view text,
                                 const RequestOptions& options = {});

// A test's `given` and optional `data`. Data values the test does not give
// are empty (set, string, int, bool) or else absent. Strict.
DecodedRequest DecodeTestRequest(const CheckedProgram& program, const ast::JsonValue& given,
                                 const ast::JsonValue* data, const RequestOptions& options = {});

// Data values as a JSON object {"name": value, ...} (what `warden eval
// --data` reads). Every declared data value must be given with its type.
// Returns false with errors when not.
bool DecodeDataJson(const CheckedProgram& program, std::string_view text,
                    const RequestOptions& options, std::vector<std::optional<EvalValue>>* data,
                    std::vector<RequestError>* errors);

// JSON text -> ast::JsonValue (spans invalid), with the size and depth limits
// of `options`. Numbers keep their exact value: integers as kInt, others as
// kDecimal (at most 4 fractional digits, no exponent). Duplicate keys are an
// error. Returns false and sets `error` when the text is not acceptable.
bool ParseJsonText(std::string_view text, const RequestOptions& options, ast::JsonValue* out,
                   RequestError* error);

}  // namespace warden

#endif  // WARDEN_CLI_REFERENCE_REQUEST_H_
