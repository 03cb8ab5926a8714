// `warden eval --policies PATH... [--data FILE] [--request FILE|-] [--explain]`:
// decide JSON-lines requests with the reference evaluator, one decision JSON
// object per line (docs/decisions.md has the formats).
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"
#include "compiler/reference/reference_evaluator.h"
#include "compiler/reference/request.h"

namespace warden::cli {
namespace {

using nlohmann::json;

struct EvalFlags {
  std::vector<std::string> policies;
  std::string data;
  std::string request = "-";
  bool explain = false;
  bool strict = false;
  std::string stdlib;
};

json ValueJson(const EvalValue& value) {
  switch (value.kind) {
    case EvalValue::Kind::kBool:
      return value.b;
    case EvalValue::Kind::kInt:
      return value.i;
    case EvalValue::Kind::kDecimal:
      return static_cast<double>(value.i) / static_cast<double>(ast::kDecimalScale);
    case EvalValue::Kind::kString:
      return value.s;
    case EvalValue::Kind::kDuration:   // "15m"
    case EvalValue::Kind::kTimestamp:  // RFC 3339, UTC
    case EvalValue::Kind::kIp:
      return FormatValue(value);
    case EvalValue::Kind::kEnum:
      return value.s;
    case EvalValue::Kind::kSet: {
      json out = json::array();
      for (const EvalValue& element : value.elements) out.push_back(ValueJson(element));
      return out;
    }
    case EvalValue::Kind::kRecord: {
      json out = json::object();
      for (size_t k = 0; k < value.elements.size(); ++k)
        out[value.names[k]] = ValueJson(value.elements[k]);
      return out;
    }
  }
  return nullptr;
}

json ExtrasJson(const std::vector<DecisionExtra>& extras) {
  json out = json::array();
  for (const DecisionExtra& extra : extras) {
    json values = json::object();
    for (const auto& [key, value] : extra.values) values[key] = ValueJson(value);
    out.push_back({{"name", extra.name}, {"rule", extra.rule}, {"values", values}});
  }
  return out;
}

json RuleJson(const RuleRef& rule) {
  return {
      {"name", rule.name}, {"policy", rule.policy_name}, {"file", rule.file}, {"line", rule.line}};
}

json DecisionJson(const ReferenceDecision& decision, const std::vector<RequestError>& warnings,
                  bool explain) {
  json rules = json::array();
  for (const RuleRef& rule : decision.rules) rules.push_back(RuleJson(rule));
  json errors = json::array();
  for (const RequestError& warning : warnings) {
    errors.push_back({{"code", warning.code},
                      {"rule", ""},
                      {"path", warning.path},
                      {"message", warning.message}});
  }
  for (const ReferenceError& error : decision.errors) {
    errors.push_back({{"code", rt::EvalErrorCode(error.code)},
                      {"rule", error.rule},
                      {"message", error.message},
                      {"file", error.file},
                      {"line", error.line}});
  }
  json risk = json::object();
  for (const auto& [name, score] : decision.risks) risk[name] = score;
  json out = {{"decision", rt::OutcomeName(decision.outcome)},
              {"challenge",
               decision.outcome == rt::Outcome::kStepUp ? json(decision.challenge) : json(nullptr)},
              {"rules", rules},
              {"reasons", decision.reasons},
              {"obligations", ExtrasJson(decision.obligations)},
              {"advice", ExtrasJson(decision.advice)},
              {"errors", errors},
              {"risk", risk},
              {"limits", decision.limits_read}};
  if (explain) {
    json explained = json::array();
    for (const ExplainedRule& rule : decision.explain) {
      json entry = RuleJson(rule.rule);
      entry["effect"] = rule.effect;
      entry["status"] = rule.status;
      if (!rule.error.empty()) entry["error"] = rule.error;
      if (!rule.failed_conditions.empty()) entry["failed_conditions"] = rule.failed_conditions;
      explained.push_back(std::move(entry));
    }
    out["explain"] = explained;
  }
  return out;
}

// A request that could not be decoded: deny, with the reason.
json BadRequestJson(const std::vector<RequestError>& errors) {
  RequestError first =
      errors.empty() ? RequestError{"bad_request", "", "malformed request", Span{}} : errors[0];
  json list = json::array();
  for (const RequestError& error : errors) {
    list.push_back(
        {{"code", error.code}, {"rule", ""}, {"path", error.path}, {"message", error.message}});
  }
  return {{"error", {{"code", "bad_request"}, {"path", first.path}, {"message", first.message}}},
          {"decision", "deny"},
          {"challenge", nullptr},
          {"rules", json::array()},
          {"reasons", json::array()},
          {"obligations", json::array()},
          {"advice", json::array()},
          {"errors", list},
          {"risk", json::object()},
          {"limits", json::array()}};
}

int RunEval(const EvalFlags& flags) {
  CompileOptions options;
  options.stdlib_dir = flags.stdlib;
  absl::StatusOr<std::unique_ptr<Compilation>> compiled = CompilePaths(flags.policies, options);
  if (!compiled.ok()) {
    PrintError(std::string(compiled.status().message()));
    return kExitUsage;
  }
  const Compilation& compilation = **compiled;
  if (compilation.program == nullptr) {
    std::cerr << RenderTextAll(compilation.diagnostics.Sorted(), compilation.sources) << "\n";
    return kExitFindings;
  }
  const CheckedProgram& program = *compilation.program;

  RequestOptions request_options;
  request_options.strict = flags.strict;
  std::vector<std::optional<EvalValue>> data(program.data.size());
  if (!flags.data.empty()) {
    absl::StatusOr<std::string> text = ReadFileText(flags.data, 64 << 20);
    if (!text.ok()) {
      PrintError(std::string(text.status().message()));
      return kExitUsage;
    }
    RequestOptions data_options = request_options;
    data_options.max_bytes = 64 << 20;
    data_options.max_set_elements = 1 << 20;
    std::vector<RequestError> errors;
    if (!DecodeDataJson(program, *text, data_options, &data, &errors)) {
      for (const RequestError& error : errors) {
        PrintError(absl::StrCat(flags.data, ": ",
                                error.path.empty() ? "" : absl::StrCat(error.path, ": "),
                                error.message));
      }
      return kExitUsage;
    }
  } else if (!program.data.empty()) {
    PrintError(absl::StrCat("the policies declare data `", program.data[0].name,
                            "`: give the values with --data FILE"));
    return kExitUsage;
  }

  std::ifstream file;
  std::istream* in = &std::cin;
  if (flags.request != "-") {
    file.open(flags.request, std::ios::binary);
    if (!file) {
      PrintError(absl::StrCat("cannot open ", flags.request));
      return kExitUsage;
    }
    in = &file;
  }
  DecideOptions decide;
  decide.explain = flags.explain;
  decide.sources = &compilation.sources;
  constexpr auto kReplace = json::error_handler_t::replace;
  std::string line;
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    DecodedRequest request = DecodeRequestJson(program, line, request_options);
    json out;
    if (!request.ok) {
      out = BadRequestJson(request.errors);
    } else {
      request.request.data = data;
      ReferenceDecision decision = Decide(program, request.request, decide);
      out = DecisionJson(decision, request.errors, flags.explain);
    }
    std::cout << out.dump(-1, ' ', false, kReplace) << "\n";
  }
  if (in->bad()) {
    PrintError(
        absl::StrCat("cannot read ", flags.request == "-" ? "standard input" : flags.request));
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace

void AddEvalCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* command =
      app.add_subcommand("eval", "Decide JSON-lines requests with the reference evaluator");
  command->footer(
      "Exit codes: 0 every line was answered, 1 the policies have errors, 2 usage or I/O error.");
  command
      ->add_option("--policies", flags->policies,
                   ".warden files, or directories searched recursively")
      ->required()
      ->type_name("PATH");
  command->add_option("--data", flags->data, "JSON object with a value for every declared `data`")
      ->type_name("FILE");
  command
      ->add_option("--request", flags->request,
                   "JSON lines, one request per line; - is standard input")
      ->type_name("FILE")
      ->capture_default_str();
  command->add_flag(
      "--explain", flags->explain,
      "List every candidate rule, whether it fired, and the failed conditions of permit rules");
  command->add_flag("--strict", flags->strict,
                    "Reject requests with undeclared attributes or values of the wrong type");
  command
      ->add_option("--stdlib", flags->stdlib,
                   "Directory with std/NAME.warden for `import std.NAME` "
                   "(default: $WARDEN_STDLIB, else the installed standard library)")
      ->check(CLI::Validator(CLI::ExistingDirectory).description(""))
      ->type_name("DIR");
  command->callback([flags, &exit_code] { exit_code = RunEval(*flags); });
}

}  // namespace warden::cli
