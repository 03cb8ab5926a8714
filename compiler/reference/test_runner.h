// Runs the `test` blocks of a compilation through the reference evaluator.
//
// One implementation for `warden test` (cli/test_command.cc) and the
// conformance suite (tests/conformance_test.cc). A test evaluates its
// request against the bundle built from the test's package: the roots and
// `separate` declarations of that package and of every package it imports,
// transitively. A test passes when the outcome (and for step_up the
// challenge) is the expected one and every rule named after `by` is among
// the deciding rules.
#ifndef WARDEN_COMPILER_REFERENCE_TEST_RUNNER_H_
#define WARDEN_COMPILER_REFERENCE_TEST_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/driver.h"
#include "compiler/reference/reference_evaluator.h"
#include "compiler/reference/request.h"

namespace warden {

struct TestRunOptions {
  RequestOptions request;  // now_millis unset: kDefaultTestTimeMillis
};

struct TestOutcome {
  std::string name;
  std::string package;
  std::string file;
  uint32_t line = 0;
  bool passed = false;
  std::string expected;  // "deny by maker_checker", "step_up mfa", "not_applicable"
  std::string actual;    // "permit by r1", or "invalid request"
  std::string message;   // why it failed: "expected deny by maker_checker, got permit by r1"
  ReferenceDecision decision;
  std::vector<RequestError> request_errors;
};

// Runs every test of `compilation` (which must have a program), in source
// order.
std::vector<TestOutcome> RunTests(const Compilation& compilation,
                                  const TestRunOptions& options = {});

// "deny by maker_checker, four_eyes" for a decision.
std::string DescribeDecision(const ReferenceDecision& decision);

}  // namespace warden

#endif  // WARDEN_COMPILER_REFERENCE_TEST_RUNNER_H_
