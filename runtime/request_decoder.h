// The VM's request decoder: JSON bytes straight into an rt::Frame.
//
//   {"subject": {...}, "action": "approve", "resource": {"type": "payment", "id": "p-5", ...},
//    "context": {...}, "jit": ["break_glass"], "limits": {"model_calls": 12}}
//
// The semantics are those of docs/decisions.md ("Requests", "Request errors",
// "The VM's decoder"); the reference evaluator's decoder
// (cli/reference/request.cc) is an independent implementation of the
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

#include "runtime/bytecode/program.h"
#include "runtime/frame.h"
#include "runtime/request_errors.h"

namespace warden::rt {

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
