// The VM's request decoder: JSON bytes straight into an rt::Frame.
//
//   {"subject": {...}, "action": "approve", "resource": {"type": "payment", "id": "p-5", ...},
//    "context": {...}, "jit": ["break_glass"], "limits": {"model_calls": 12}}
//
// The semantics are those of docs/decisions.md ("Requests", "Request errors",
// "The VM's decoder"); the reference evaluator's decoder
// (compiler/reference/request.cc) is an independent implementation of the
// same text and the oracle of the tests.
//
// Speed: simdjson's On-Demand parser (kept and reused, so its buffers are
// allocated once); attribute names are resolved through hash maps built once
// per program (RequestSchema); strings without escapes are views into the
// decoder's padded copy of the request, escaped strings views into the
// parser's string buffer — both valid until the next Decode on this decoder,
// so decide before decoding the next request. A decoder and its frame
// reused across requests make no heap allocation in the steady state (sets
// and large objects use scratch vectors that keep their capacity).
//
// Never throws (simdjson's error-code API only) and never crashes on any
// bytes: the fuzzer tests/fuzz/request_decoder_fuzzer.cc checks it.
#ifndef WARDEN_RUNTIME_REQUEST_DECODER_H_
#define WARDEN_RUNTIME_REQUEST_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/bytecode/program.h"
#include "runtime/frame.h"

namespace warden::rt {

// Stable codes. Each belongs to one of the request-error codes of
// docs/decisions.md (RequestErrorCategory): the fatal ones are `bad_request`
// (the request is not evaluated: deny).
enum class RequestErrorCode : uint8_t {
  kMalformedJson,        // not JSON (syntax, invalid UTF-8, a control character in a string)
  kTooLarge,             // more than max_bytes
  kTooDeep,              // objects and arrays nested deeper than max_depth
  kTooManyElements,      // an array of more than max_set_elements
  kDuplicateKey,         // an object gives a key twice
  kBadNumber,            // out of the 64-bit range, an exponent, more than 4 fractional digits
  kNotAnObject,          // the request (or `resource`) is not a JSON object
  kMissingAction,        // no `action`, or not a string
  kMissingResourceType,  // no `resource`, or no `resource.type` string
  kBadJit,               // `jit` is not an array
  kBadLimits,            // `limits` is not an object, or a count is not a non-negative integer
  kWrongType,            // a value does not fit its declared type
  kUnknownAttribute,     // an attribute or request part the schema does not declare
  kUnknownJitProfile,    // a `jit` entry that is not a declared profile
  kUnknownLimit,         // a `limits` key that is not a declared limit
};
// "malformed_json", "too_large", … (stable, for logs and tests).
const char* RequestErrorCodeName(RequestErrorCode code);
// The code of docs/decisions.md: "bad_request", "wrong_type",
// "unknown_attribute", "unknown_jit_profile", "unknown_limit".
const char* RequestErrorCategory(RequestErrorCode code);
// A fatal error: the request cannot be evaluated (in any mode).
bool IsFatal(RequestErrorCode code);

struct RequestError {
  RequestErrorCode code = RequestErrorCode::kMalformedJson;
  std::string json_path;  // "subject.auth.mfa", "resource.tags[2]", "" for the whole request
  std::string message;
};

struct DecoderOptions {
  static constexpr size_t kDefaultMaxBytes = size_t{1} << 20;
  static constexpr int kDefaultMaxDepth = 32;
  static constexpr size_t kDefaultMaxSetElements = 10000;
  size_t max_bytes = kDefaultMaxBytes;               // JSON text size
  int max_depth = kDefaultMaxDepth;                  // nesting of JSON objects and arrays
  size_t max_set_elements = kDefaultMaxSetElements;  // per array
  // Unknown attributes, JIT profiles and limits and wrongly typed values are
  // errors; else (lenient, the default for live requests) unknown attributes
  // are ignored, and unknown JIT profiles or limits and wrongly typed values
  // (treated as absent) are reported in errors().
  bool strict = false;
  // context.time's default (ms since the epoch); unset: the clock at decode.
  std::optional<int64_t> now_millis;
};

// Name -> slot maps of one program, built once (at engine load) and shared
// by every decoder of that program. Immutable; thread-safe to share.
class RequestSchema;
std::shared_ptr<const RequestSchema> BuildRequestSchema(const bc::Program& program);

class RequestDecoder {
 public:
  // `program` (and `schema`, built from it when null) must outlive the decoder.
  explicit RequestDecoder(const bc::Program& program,
                          std::shared_ptr<const RequestSchema> schema = nullptr,
                          DecoderOptions options = {});
  ~RequestDecoder();
  RequestDecoder(const RequestDecoder&) = delete;
  RequestDecoder& operator=(const RequestDecoder&) = delete;

  // Resets `frame` (made for the same program) and fills it from `json`
  // (copied into the decoder's padded buffer). Returns false when the
  // request cannot be evaluated (a fatal error, or any error in strict
  // mode); errors() then explains. Frame strings view the decoder's
  // buffers: decide before the next Decode.
  bool Decode(std::string_view json, Frame* frame);
  // As Decode, without the copy when `capacity` (readable bytes at `data`)
  // is at least size + Padding(): the bytes must then outlive the decision.
  bool DecodePadded(const char* data, size_t size, size_t capacity, Frame* frame);
  static size_t Padding();

  // The last request's errors: the fatal one (a single entry) when Decode
  // returned false in lenient mode; else the tolerated problems, in order.
  const std::vector<RequestError>& errors() const;
  const DecoderOptions& options() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_REQUEST_DECODER_H_
