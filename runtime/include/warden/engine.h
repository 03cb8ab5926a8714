// Warden's embedding API: load a compiled policy bundle, decide requests.
//
//   auto engine = warden::Engine::FromFile("policies.wdnb");   // verified on load
//   warden::rt::Frame frame = (*engine)->NewFrame();
//   frame.SetString((*engine)->SlotOf("subject.id"), "alice");  … fill the request …
//   warden::Decision decision;
//   (*engine)->Decide(frame, &decision);                        // never throws
//
// An Engine is immutable once loaded: any number of threads may call Decide
// on one Engine at the same time, each with its own Frame and Decision.
// Decide makes no heap allocation once the thread's scratch memory, the
// Frame and the Decision are warm (reuse them across requests).
//
// A Decision holds views (std::string_view) into its Engine's tables (rule
// names, files, reasons, the bundle hash): it is valid while the Engine is.
#ifndef WARDEN_ENGINE_H_
#define WARDEN_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/bytecode/limits.h"
#include "runtime/decision.h"
#include "runtime/frame.h"
#include "runtime/request_errors.h"
#include "runtime/vm_options.h"

namespace warden {

namespace rt {
class RequestDecoder;
class RequestSchema;
}  // namespace rt

// A `data` value supplied at load, converted to the declared type: ints for
// int; ints (whole units) or strings ("10.50") for decimal; strings for
// string, enum members, ip/CIDR, durations ("15m") and RFC 3339 timestamps
// (or ints: ms); lists for sets; objects for records (every required field
// given, no undeclared one; null or no entry for an absent optional field).
struct DataField;

struct DataValue {
  enum class Kind { kBool, kInt, kString, kList, kObject, kNull };
  Kind kind = Kind::kList;
  bool b = false;
  int64_t i = 0;
  std::string s;
  std::vector<DataValue> list;
  std::vector<DataField> fields;  // kObject, in the given order

  static DataValue Bool(bool v);
  static DataValue Int(int64_t v);
  static DataValue String(std::string v);
  static DataValue List(std::vector<DataValue> v);
  static DataValue Object(std::vector<DataField> v);
  static DataValue Null();
};

struct DataField {
  std::string name;
  DataValue value;
};

struct EngineOptions {
  bc::ProgramLimits limits;
  rt::VmOptions vm;
  std::vector<std::pair<std::string, DataValue>> data;
  // A declared data value that `data` lacks: an error (default), or empty
  // ("" / 0 / false / empty set / a record with every field absent) when
  // true, as in `warden test`; likewise a required field a data record lacks.
  bool allow_missing_data = false;
};

struct DecidingRule {
  std::string_view name;
  std::string_view policy;
  std::string_view file;
  uint32_t line = 0;
  uint32_t rule = 0;  // index into the program's rules
};

inline constexpr uint32_t kNoInstruction = UINT32_MAX;

struct DecisionError {
  rt::EvalError code = rt::EvalError::kNone;
  std::string_view where;  // the rule, risk score or policy (set) it happened in
  std::string_view what;   // "condition", an obligation's name, "risk factor", "separation"
  // Where the failing expression is written (within a condition, risk factor
  // or obligation value: the line of that expression, not of its rule); the
  // policy or policy set for only_one_applicable, the `separate` declaration
  // for separation_of_duties; "" and 0 when unknown (a conflict among the
  // roots, a bad request).
  std::string_view file;
  uint32_t line = 0;
  // The failing instruction (index into the program's code), or
  // kNoInstruction; Engine::ErrorMessage turns it into text.
  uint32_t instruction = kNoInstruction;
};

struct ObligationArg {
  std::string_view key;
  std::string value;  // rendered: 42, 10.5, "text", 10.0.0.0/8, [a, b]
  // The value as JSON, to copy verbatim into a JSON document: numbers for
  // int and decimal (decimals always with a fraction: 800.0, 10.5), true or
  // false, strings quoted and escaped, durations ("1h30m"), timestamps
  // (RFC 3339, UTC: "2026-03-02T10:00:00Z"), IP addresses and networks, and
  // enum members as strings, sets as arrays ([1,2], ["a","b"]).
  std::string json;
};

struct Obligation {
  bool is_obligation = true;  // else advice
  std::string_view name;
  std::string_view rule;
  uint32_t first_arg = 0;  // into Decision::args
  uint32_t arg_count = 0;
};

struct Decision {
  rt::Outcome outcome = rt::Outcome::kDeny;
  std::string_view challenge;             // step_up
  std::vector<DecidingRule> rules;        // the rules that decided, in evaluation order
  std::vector<std::string_view> reasons;  // their `because` texts
  std::vector<Obligation> obligations;    // of the deciding rules
  std::vector<ObligationArg> args;
  std::vector<DecisionError> errors;  // every evaluation error
  std::vector<uint32_t> limits_read;  // limits whose value the decision read
  // Risk scores computed while deciding (name, score), in program order.
  std::vector<std::pair<std::string_view, int64_t>> risks;
  std::string_view bundle_hash;  // SHA-256 of the bundle content (hex)
  void Clear();
  // Appends an empty argument to `args`, reusing the string memory of the
  // arguments Clear() removed (no allocation once the decision is warm).
  ObligationArg& AddArg() { return spare_args_.empty() ? args.emplace_back() : AddSpareArg(); }

 private:
  ObligationArg& AddSpareArg();
  std::vector<ObligationArg> spare_args_;
};

// One candidate rule of a decision, as Engine::Explain lists them: every rule
// whose policy applies to the request's resource type and whose action list
// holds its action, in evaluation order (a rule of a policy used twice is
// listed twice), as the reference evaluator's explain does.
struct RuleExplanation {
  enum class Status : uint8_t {
    kFired,          // it applies (an erroring deny or step_up, too: fail closed)
    kError,          // its condition failed (or a permit's obligation could not be computed)
    kNotApplicable,  // its condition does not hold
    kNotEvaluated,   // first_applicable had already chosen
  };
  uint32_t rule = 0;  // index into the program's rules
  std::string_view name;
  std::string_view policy;
  std::string_view file;
  uint32_t line = 0;
  std::string effect;  // "permit", "deny", "step_up mfa"
  Status status = Status::kNotApplicable;
  std::string error;  // the first failure's message (condition, else obligation or advice)
  // Permit rules that did not fire: the top-level `and` conjuncts of the
  // condition that are false or fail ("x > 1 (error: `/` by zero)"), as written.
  std::vector<std::string> failed_conditions;
  // A permit rule that did not fire in a bundle compiled without conjuncts
  // (CodegenOptions::explain_conjuncts): failed_conditions is unknown.
  bool conditions_unavailable = false;
};
const char* RuleStatusName(RuleExplanation::Status status);  // "fired", "error", …

struct Explanation {
  std::vector<RuleExplanation> rules;
  void Clear() { rules.clear(); }
};

class JsonSession;
struct DecisionOrRequestError;

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> FromBundle(std::string_view bytes,
                                                            EngineOptions options = {});
  static absl::StatusOr<std::unique_ptr<Engine>> FromFile(const std::string& path,
                                                          EngineOptions options = {});
  // An in-memory program (from the code generator); verified like a bundle.
  static absl::StatusOr<std::unique_ptr<Engine>> FromProgram(bc::Program program,
                                                             EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const bc::Program& program() const;
  const std::string& bundle_hash() const;

  // A frame sized for this engine's program.
  rt::Frame NewFrame(rt::FrameOptions options = {}) const;
  // The frame slot of an attribute path ("subject.auth.mfa"), or -1.
  int SlotOf(std::string_view path) const;

  // Decides the request in `frame`. Never throws; on an internal failure
  // the decision is deny with an error.
  void Decide(const rt::Frame& frame, Decision* decision) const noexcept;
  Decision Decide(const rt::Frame& frame) const;

  // Decides like Decide (the same decision) and explains it: every candidate
  // rule, its status, its error and, for permit rules that did not fire,
  // the failed conditions. Slower than Decide and allocates: for tools and
  // debugging (`warden eval --explain`), not the serving path, which Explain
  // leaves untouched (Decide has no explain checks).
  void Explain(const rt::Frame& frame, Decision* decision, Explanation* explanation) const noexcept;
  // DecideJson, explained.
  bool ExplainJson(std::string_view json, JsonSession& session, Decision* decision,
                   Explanation* explanation) const noexcept;

  // A decision error as text, in the reference evaluator's words where the
  // failing instruction tells ("`/` by zero", "`resource.owner` is missing
  // from the request"); else what the error's code means.
  // `frame`, the request decided, names an undeclared action in its error.
  std::string ErrorMessage(const DecisionError& error, const rt::Frame* frame = nullptr) const;

  // Decides a JSON request (docs/decisions.md, "Requests" and "The VM's
  // decoder"), decoded by `session` (one per thread) into its frame.
  // Returns false when the request cannot be evaluated (malformed, over a
  // limit, no action or resource type; in strict mode any problem): the
  // decision is then deny with a bad_request error, and session.errors()
  // says why. When true, session.errors() lists the problems lenient mode
  // tolerated. Never throws; no heap allocation once the session, the
  // decision and the thread's scratch memory are warm. The decision's
  // views into the request are valid until the session's next request.
  bool DecideJson(std::string_view json, JsonSession& session, Decision* decision) const noexcept;
  DecisionOrRequestError DecideJson(std::string_view json, JsonSession& session) const;

  // The name -> slot maps of the JSON decoder, built once at load.
  const std::shared_ptr<const rt::RequestSchema>& request_schema() const;

  struct Impl;  // opaque: the prepared program and its rule index (engine.cc)

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Per-thread state for JSON requests: the decoder (simdjson's parser and
// the padded copy of the request) and the frame, reused across requests.
class JsonSession {
 public:
  explicit JsonSession(const Engine& engine, rt::DecoderOptions options = {});
  ~JsonSession();
  JsonSession(JsonSession&&) noexcept;
  JsonSession& operator=(JsonSession&&) noexcept;
  rt::RequestDecoder& decoder() { return *decoder_; }
  rt::Frame& frame() { return frame_; }
  // The last request's errors (see Engine::DecideJson).
  const std::vector<rt::RequestError>& errors() const;

 private:
  std::unique_ptr<rt::RequestDecoder> decoder_;  // held apart: the decoder is not API
  rt::Frame frame_;
};

struct DecisionOrRequestError {
  bool ok = false;  // false: the request was rejected (decision: deny, bad_request)
  Decision decision;
  std::vector<rt::RequestError> errors;  // the rejection, or the problems tolerated
};

}  // namespace warden

#endif  // WARDEN_ENGINE_H_
