#include "cli/reference/test_runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/reference/vm_bridge.h"

namespace warden {
namespace {

// The package and every package it imports, transitively.
std::set<std::string> Bundle(const Compilation& compilation, const std::string& package) {
  std::map<std::string, std::set<std::string>> imports;
  for (const auto& file : compilation.files) {
    if (file == nullptr) continue;
    auto& targets = imports[file->package.ToString()];
    for (const auto& import : file->imports) targets.insert(import.package.ToString());
  }
  std::set<std::string> bundle;
  std::vector<std::string> stack = {package};
  while (!stack.empty()) {
    std::string current = stack.back();
    stack.pop_back();
    if (!bundle.insert(current).second) continue;
    for (const std::string& target : imports[current]) stack.push_back(target);
  }
  return bundle;
}

std::string PackageOf(const std::string& qualified) {
  size_t dot = qualified.rfind('.');
  return dot == std::string::npos ? std::string() : qualified.substr(0, dot);
}

std::string ExpectedText(const CheckedProgram& program, const TestCase& test) {
  rt::Outcome outcome = test.expect == ast::Outcome::kPermit   ? rt::Outcome::kPermit
                        : test.expect == ast::Outcome::kDeny   ? rt::Outcome::kDeny
                        : test.expect == ast::Outcome::kStepUp ? rt::Outcome::kStepUp
                                                               : rt::Outcome::kNotApplicable;
  std::string text = DescribeOutcome(outcome, test.challenge);
  std::vector<std::string> names;
  for (const auto& [policy, rule] : test.by_rules)
    names.push_back(program.policies[policy].rules[rule].name);
  if (!names.empty()) absl::StrAppend(&text, " by ", absl::StrJoin(names, ", "));
  return text;
}

std::string ErrorsText(const ReferenceDecision& decision) {
  std::vector<std::string> parts;
  for (const ReferenceError& error : decision.errors) {
    std::string where = error.rule.empty() ? std::string() : absl::StrCat(" in ", error.rule);
    parts.push_back(absl::StrCat(rt::EvalErrorCode(error.code), where, ": ", error.message));
  }
  return absl::StrJoin(parts, "; ");
}

std::string VmErrorsText(const Decision& decision) {
  std::vector<std::string> parts;
  for (const DecisionError& error : decision.errors) {
    parts.push_back(absl::StrCat(rt::EvalErrorCode(error.code), " in ", std::string(error.where),
                                 " (", std::string(error.what), ")"));
  }
  return absl::StrJoin(parts, "; ");
}

rt::Outcome ExpectedOutcome(const TestCase& test) {
  return test.expect == ast::Outcome::kPermit   ? rt::Outcome::kPermit
         : test.expect == ast::Outcome::kDeny   ? rt::Outcome::kDeny
         : test.expect == ast::Outcome::kStepUp ? rt::Outcome::kStepUp
                                                : rt::Outcome::kNotApplicable;
}

// Whether a decision (outcome, challenge, deciding rules as (policy, rule)
// of the checked program) meets the test's expectation.
bool MeetsExpectation(const TestCase& test, rt::Outcome outcome, const std::string& challenge,
                      const std::set<std::pair<int, int>>& rules) {
  rt::Outcome expected = ExpectedOutcome(test);
  bool passed = outcome == expected;
  if (passed && expected == rt::Outcome::kStepUp) passed = challenge == test.challenge;
  for (const auto& by : test.by_rules) passed = passed && rules.contains(by);
  return passed;
}

std::set<std::pair<int, int>> RulesOf(const ReferenceDecision& decision) {
  std::set<std::pair<int, int>> rules;
  for (const RuleRef& ref : decision.rules) rules.emplace(ref.policy, ref.rule);
  return rules;
}

std::set<std::pair<int, int>> RulesOf(const CheckedProgram& program, const Decision& decision) {
  std::set<std::pair<int, int>> rules;
  for (const DecidingRule& rule : decision.rules) {
    for (size_t p = 0; p < program.policies.size(); ++p) {
      if (program.policies[p].name != rule.policy) continue;
      for (size_t r = 0; r < program.policies[p].rules.size(); ++r) {
        if (program.policies[p].rules[r].name == rule.name)
          rules.emplace(static_cast<int>(p), static_cast<int>(r));
      }
    }
  }
  return rules;
}

// The roots and `separate` declarations of a test's bundle: its package
// and what it imports.
DecideOptions BundleDecideOptions(const Compilation& compilation,
                                  const std::set<std::string>& bundle,
                                  const std::map<FileId, std::string>& file_package) {
  const CheckedProgram& program = *compilation.program;
  DecideOptions decide;
  decide.sources = &compilation.sources;
  std::vector<PolicySet::Member> roots;
  for (const PolicySet::Member& root : program.roots) {
    std::string package = root.is_set ? PackageOf(program.policy_sets[root.index].name)
                                      : program.policies[root.index].package;
    if (bundle.contains(package)) roots.push_back(root);
  }
  decide.roots = std::move(roots);
  std::vector<int> separations;
  for (size_t k = 0; k < program.separations.size(); ++k) {
    auto it = file_package.find(program.separations[k].span.file);
    if (it != file_package.end() && bundle.contains(it->second))
      separations.push_back(static_cast<int>(k));
  }
  decide.separations = std::move(separations);
  return decide;
}

}  // namespace

std::string DescribeDecision(const ReferenceDecision& decision) {
  std::string text = DescribeOutcome(decision.outcome, decision.challenge);
  std::vector<std::string> names;
  for (const RuleRef& rule : decision.rules) names.push_back(rule.name);
  if (!names.empty()) absl::StrAppend(&text, " by ", absl::StrJoin(names, ", "));
  return text;
}

std::vector<TestOutcome> RunTests(const BundleBuild& build, const TestRunOptions& options) {
  std::vector<TestOutcome> outcomes;
  if (build.compilation == nullptr || build.compilation->program == nullptr) return outcomes;
  const Compilation& compilation = *build.compilation;
  const CheckedProgram* program = compilation.program.get();
  RequestOptions request_options = options.request;
  if (!request_options.now_millis) request_options.now_millis = kDefaultTestTimeMillis;
  // One program for the VM; tests then share engines by bundle and data.
  const absl::StatusOr<bc::Program>& bytecode = build.program;
  const absl::Status bytecode_status =
      options.engine == TestEngine::kReference ? absl::OkStatus() : bytecode.status();
  std::map<std::string, absl::StatusOr<std::unique_ptr<Engine>>> engines;
  std::map<FileId, std::string> file_package;
  for (const auto& file : compilation.files) {
    if (file != nullptr) file_package[file->file] = file->package.ToString();
  }

  for (const TestCase& test : program->tests) {
    TestOutcome outcome;
    outcome.name = test.name;
    outcome.package = test.package;
    if (test.span.valid()) {
      const SourceFile& file = compilation.sources.file(test.span.file);
      outcome.file = file.path();
      outcome.line = file.Locate(test.span.begin).line;
    }
    outcome.expected = ExpectedText(*program, test);

    std::set<std::string> bundle = Bundle(compilation, test.package);
    const bool compare_explain = options.compare_explain && options.engine == TestEngine::kBoth;
    DecideOptions decide = BundleDecideOptions(compilation, bundle, file_package);
    decide.explain = compare_explain;

    const ast::JsonValue* data = test.source->data ? &*test.source->data : nullptr;
    DecodedRequest request = DecodeTestRequest(*program, test.source->given, data, request_options);
    if (!request.ok) {
      outcome.request_errors = request.errors;
      outcome.actual = "invalid request";
      std::vector<std::string> parts;
      for (const RequestError& error : request.errors) {
        parts.push_back(error.path.empty() ? error.message
                                           : absl::StrCat(error.path, ": ", error.message));
      }
      outcome.message = absl::StrCat("expected ", outcome.expected,
                                     ", but the request is invalid: ", absl::StrJoin(parts, "; "));
      outcomes.push_back(std::move(outcome));
      continue;
    }
    const bool run_reference = options.engine != TestEngine::kVm;
    const bool run_vm = options.engine != TestEngine::kReference;
    bool reference_passed = true;
    if (run_reference) {
      outcome.decision = Decide(*program, request.request, decide);
      outcome.actual = DescribeDecision(outcome.decision);
      reference_passed = MeetsExpectation(test, outcome.decision.outcome,
                                          outcome.decision.challenge, RulesOf(outcome.decision));
    }

    bool vm_passed = true;
    std::string vm_errors_text;
    if (run_vm) {
      if (!bytecode_status.ok()) {
        outcome.vm_skipped = std::string(bytecode_status.message());
      } else {
        // One engine per bundle (roots, separations) and data: tests of one
        // package without data share it.
        std::string key = absl::StrJoin(bundle, ",");
        for (const auto& value : request.request.data)
          absl::StrAppend(&key, "|", value ? FormatValue(*value) : std::string("-"));
        auto it = engines.find(key);
        if (it == engines.end()) {
          it = engines
                   .emplace(key, BuildEngine(*program, *bytecode, decide.roots, decide.separations,
                                             request.request.data))
                   .first;
        }
        if (!it->second.ok()) {
          outcome.vm_skipped = std::string(it->second.status().message());
        } else {
          const Engine& engine = **it->second;
          rt::Frame frame = engine.NewFrame();
          absl::Status filled =
              FillFrame(*program, engine, request.request, *request_options.now_millis, &frame);
          if (!filled.ok()) {
            outcome.vm_skipped = std::string(filled.message());
          } else {
            Decision vm;
            Explanation explanation;
            if (compare_explain) {
              engine.Explain(frame, &vm, &explanation);
            } else {
              engine.Decide(frame, &vm);
            }
            outcome.vm_ran = true;
            outcome.vm_actual = DescribeVmDecision(vm);
            for (const DecisionError& error : vm.errors) {
              outcome.vm_errors.push_back(absl::StrCat(rt::EvalErrorCode(error.code), " in ",
                                                       std::string(error.where), " (",
                                                       std::string(error.what), ")"));
            }
            vm_errors_text = VmErrorsText(vm);
            vm_passed = MeetsExpectation(test, vm.outcome, std::string(vm.challenge),
                                         RulesOf(*program, vm));
            if (run_reference) outcome.disagreement = CompareDecisions(vm, outcome.decision);
            if (compare_explain && outcome.disagreement.empty())
              outcome.disagreement = CompareExplanations(explanation, outcome.decision);
            if (!run_reference) outcome.actual = outcome.vm_actual;
          }
        }
      }
      // Only the VM was asked for and it could not run: that is a failure,
      // not a pass.
      if (!run_reference && !outcome.vm_ran) {
        vm_passed = false;
        outcome.actual = "not run on the vm";
      }
    }

    outcome.passed = reference_passed && vm_passed && outcome.disagreement.empty();
    if (!outcome.passed) {
      if (!outcome.disagreement.empty()) {
        outcome.message = absl::StrCat(outcome.disagreement, " (expected ", outcome.expected, ")");
      } else if (!run_reference && !outcome.vm_ran) {
        outcome.message = absl::StrCat("expected ", outcome.expected,
                                       ", but the vm cannot run it: ", outcome.vm_skipped);
      } else {
        outcome.message = absl::StrCat("expected ", outcome.expected, ", got ", outcome.actual);
        if (run_reference && !outcome.decision.errors.empty()) {
          absl::StrAppend(&outcome.message, " (errors: ", ErrorsText(outcome.decision), ")");
        } else if (!run_reference && !vm_errors_text.empty()) {
          absl::StrAppend(&outcome.message, " (errors: ", vm_errors_text, ")");
        }
      }
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace warden
