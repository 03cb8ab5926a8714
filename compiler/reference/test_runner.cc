#include "compiler/reference/test_runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

}  // namespace

std::string DescribeDecision(const ReferenceDecision& decision) {
  std::string text = DescribeOutcome(decision.outcome, decision.challenge);
  std::vector<std::string> names;
  for (const RuleRef& rule : decision.rules) names.push_back(rule.name);
  if (!names.empty()) absl::StrAppend(&text, " by ", absl::StrJoin(names, ", "));
  return text;
}

std::vector<TestOutcome> RunTests(const Compilation& compilation, const TestRunOptions& options) {
  std::vector<TestOutcome> outcomes;
  const CheckedProgram* program = compilation.program.get();
  if (program == nullptr) return outcomes;
  RequestOptions request_options = options.request;
  if (!request_options.now_millis) request_options.now_millis = kDefaultTestTimeMillis;
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
    DecideOptions decide;
    decide.sources = &compilation.sources;
    std::vector<PolicySet::Member> roots;
    for (const PolicySet::Member& root : program->roots) {
      std::string package = root.is_set ? PackageOf(program->policy_sets[root.index].name)
                                        : program->policies[root.index].package;
      if (bundle.contains(package)) roots.push_back(root);
    }
    decide.roots = std::move(roots);
    std::vector<int> separations;
    for (size_t k = 0; k < program->separations.size(); ++k) {
      auto it = file_package.find(program->separations[k].span.file);
      if (it != file_package.end() && bundle.contains(it->second))
        separations.push_back(static_cast<int>(k));
    }
    decide.separations = std::move(separations);

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
    outcome.decision = Decide(*program, request.request, decide);
    outcome.actual = DescribeDecision(outcome.decision);

    rt::Outcome expected = test.expect == ast::Outcome::kPermit   ? rt::Outcome::kPermit
                           : test.expect == ast::Outcome::kDeny   ? rt::Outcome::kDeny
                           : test.expect == ast::Outcome::kStepUp ? rt::Outcome::kStepUp
                                                                  : rt::Outcome::kNotApplicable;
    bool passed = outcome.decision.outcome == expected;
    if (passed && expected == rt::Outcome::kStepUp)
      passed = outcome.decision.challenge == test.challenge;
    for (const auto& [policy, rule] : test.by_rules) {
      bool found = false;
      for (const RuleRef& ref : outcome.decision.rules)
        found = found || (ref.policy == policy && ref.rule == rule);
      passed = passed && found;
    }
    outcome.passed = passed;
    if (!passed) {
      outcome.message = absl::StrCat("expected ", outcome.expected, ", got ", outcome.actual);
      if (!outcome.decision.errors.empty()) {
        absl::StrAppend(&outcome.message, " (errors: ", ErrorsText(outcome.decision), ")");
      }
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace warden
