// The bridge between the reference evaluator and the bytecode VM: the
// reference's Request as an rt::Frame, its data values as EngineOptions::data,
// and a comparison of the two evaluators' decisions.
//
// Both sides start from one CheckedProgram: the reference evaluates it
// directly, the VM runs GenerateBytecode's output. The Request is already
// decoded and validated against the program (defaults applied, JIT grants,
// limit counts and data resolved to indices), so the frame is filled by
// attribute path (Engine::SlotOf) with the typed Frame setters, exactly as an
// embedder would. Nothing here evaluates anything: a disagreement found by
// CompareDecisions is a disagreement between the two evaluators.
//
// Used by `warden test` (test_runner.h, which runs every test on both) and
// tests/differential_test.cc (random requests, both must agree).
#ifndef WARDEN_CLI_REFERENCE_VM_BRIDGE_H_
#define WARDEN_CLI_REFERENCE_VM_BRIDGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/reference/reference_evaluator.h"
#include "cli/reference/request.h"
#include "compiler/checked.h"
#include "runtime/bytecode/program.h"
#include "runtime/frame.h"
#include "warden/engine.h"

namespace warden {

// Data values (Request::data) as EngineOptions::data. A value that is not
// given (nullopt) is left out. Unimplemented for record-typed data.
absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> DataForEngine(
    const CheckedProgram& program, const std::vector<std::optional<EvalValue>>& data);

// Fills `frame` (made by engine.NewFrame(), or Reset()) with `request`:
// every present attribute by its path, the action, the resource type, the
// JIT grants, the limit counts (nullopt: unavailable) and `now_millis` (the
// default of context.time). Unimplemented when a value cannot be put into
// a frame (a set of records or of bools); Internal when the engine's
// program does not match `program`.
absl::Status FillFrame(const CheckedProgram& program, const Engine& engine, const Request& request,
                       int64_t now_millis, rt::Frame* frame);

// Builds an engine from `bytecode` for deciding `request`'s kind of
// requests: `roots` and `separations` (indices into the CheckedProgram's,
// which the code generator keeps) narrow the bundle like DecideOptions, and
// `data` (Request::data) is supplied at load. Data values that are not
// given are left to EngineOptions::allow_missing_data; Unimplemented when
// such a value has a type the engine cannot leave empty (the reference
// treats it as absent: reading it is a `missing_attribute` error).
absl::StatusOr<std::unique_ptr<Engine>> BuildEngine(
    const CheckedProgram& program, const bc::Program& bytecode,
    const std::optional<std::vector<PolicySet::Member>>& roots,
    const std::optional<std::vector<int>>& separations,
    const std::vector<std::optional<EvalValue>>& data);

// "deny by a, b" / "step_up mfa by r" / "not_applicable" for a VM decision.
std::string DescribeVmDecision(const Decision& decision);

// Compares what the two evaluators decided: the outcome, the challenge, the
// deciding rules (name and qualified policy; as a multiset, so a rule listed
// twice by one side differs), obligations and advice, and the errors (code and the file:line of
// the failing expression, as a multiset). Returns "" when they agree, else a readable
// difference: "vm says deny by a, reference says permit by b; errors: vm [overflow …],
// reference []".
std::string CompareDecisions(const Decision& vm, const ReferenceDecision& reference);

// Compares the VM's explanation (Engine::Explain) with the reference's
// (DecideOptions::explain): the same rules in the same order, each with the
// same policy, file:line, effect, status, error message and failed
// conditions. Returns "" when they agree, else the first difference.
std::string CompareExplanations(const Explanation& vm, const ReferenceDecision& reference);

// The request as readable text (for a failing differential case): the
// action, resource type, present attributes, grants, limit counts and data.
std::string DescribeRequest(const CheckedProgram& program, const Request& request);

}  // namespace warden

#endif  // WARDEN_CLI_REFERENCE_VM_BRIDGE_H_
