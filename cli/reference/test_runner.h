// Runs the `test` blocks of a compilation through the reference evaluator
// and the bytecode VM, and checks that each agrees with the expectation and
// with the other.
//
// One implementation for `warden test` (cli/test_command.cc) and the
// conformance suite (tests/conformance_test.cc). A test evaluates its
// request against the bundle built from the test's package: the roots and
// `separate` declarations of that package and of every package it imports,
// transitively. A test passes when the outcome (and for step_up the
// challenge) is the expected one and every rule named after `by` is among
// the deciding rules.
//
// With TestEngine::kBoth (the default) the program compiled to bytecode by
// the driver (CompileToBundle) is what every test also runs on the VM engine
// (vm_bridge.h: same roots, separations and data as the reference): the
// test fails when either engine misses the expectation, and any difference
// between the two (outcome, challenge, deciding rules, error codes and
// lines; with compare_explain, the explanations) fails it with "vm says ...,
// reference says ...". When the code generator does not
// support the program (or a request value), the VM part is skipped and
// `vm_skipped` says why; the reference result still counts.
#ifndef WARDEN_CLI_REFERENCE_TEST_RUNNER_H_
#define WARDEN_CLI_REFERENCE_TEST_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli/reference/reference_evaluator.h"
#include "cli/reference/request.h"
#include "compiler/driver.h"

namespace warden {

enum class TestEngine { kBoth, kVm, kReference };

struct TestRunOptions {
  RequestOptions request;  // now_millis unset: kDefaultTestTimeMillis
  TestEngine engine = TestEngine::kBoth;
  // kBoth: also explain on both engines (DecideOptions::explain,
  // Engine::Explain) and count any difference (CompareExplanations) as a
  // disagreement. The conformance suite does.
  bool compare_explain = false;
};

struct TestOutcome {
  std::string name;
  std::string package;
  std::string file;
  uint32_t line = 0;
  bool passed = false;
  std::string expected;        // "deny by maker_checker", "step_up mfa", "not_applicable"
  std::string actual;          // "permit by r1", or "invalid request"
  std::string message;         // why it failed: "expected deny by maker_checker, got permit by r1"
  ReferenceDecision decision;  // empty unless the reference ran
  // The VM's side (kBoth, kVm): its decision as text and its error codes, or
  // why it did not run; `disagreement` is set when both ran and differ.
  bool vm_ran = false;
  std::string vm_actual;
  std::vector<std::string> vm_errors;  // "overflow in r1 (condition)"
  std::string vm_skipped;
  std::string disagreement;
  std::vector<RequestError> request_errors;
};

// Runs every test of `build` (CompileToBundle; nothing when its compilation
// has no checked program), in source order. The VM runs build.program; its
// error is the reason the VM part is skipped. With compare_explain, build
// with BuildOptions::codegen.explain_conjuncts so the VM can say which
// conditions failed.
std::vector<TestOutcome> RunTests(const BundleBuild& build, const TestRunOptions& options = {});

// "deny by maker_checker, four_eyes" for a decision.
std::string DescribeDecision(const ReferenceDecision& decision);

}  // namespace warden

#endif  // WARDEN_CLI_REFERENCE_TEST_RUNNER_H_
