// `warden eval --policies PATH...|BUNDLE [--data FILE] [--request FILE|-] [--explain]
//  [--engine vm|reference]`: decide JSON-lines requests, one decision JSON
// object per line (docs/decisions.md has the formats). The default engine is
// the bytecode VM with its JSON decoder (runtime/request_decoder.h), which
// also explains (Engine::Explain); the reference evaluator (`--engine
// reference`) is the oracle. Both print through DecisionJson/BadRequestJson,
// so the output has one shape.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/reference/reference_evaluator.h"
#include "cli/reference/request.h"
#include "compiler/diagnostic_render.h"
#include "compiler/driver.h"
#include "compiler/driver_engine.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/data_json.h"
#include "warden/engine.h"

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
  std::string engine = "vm";
};

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

// ---------------------------------------------------------------- the VM engine

// A VM decision's obligations or advice, each value printed from its JSON
// (ObligationArg::json), in ExtrasJson's shape.
json VmExtrasJson(const Decision& d, bool obligations) {
  json out = json::array();
  for (const Obligation& o : d.obligations) {
    if (o.is_obligation != obligations) continue;
    json values = json::object();
    for (uint32_t a = o.first_arg; a < o.first_arg + o.arg_count && a < d.args.size(); ++a) {
      values[std::string(d.args[a].key)] =
          json::parse(d.args[a].json, nullptr, /*allow_exceptions=*/false);
    }
    out.push_back(
        {{"name", std::string(o.name)}, {"rule", std::string(o.rule)}, {"values", values}});
  }
  return out;
}

// The VM's decision (and explanation, if any) in the reference's terms,
// printed by DecisionJson.
ReferenceDecision FromVm(const Engine& engine, const Decision& d, const rt::Frame& frame,
                         const Explanation* explanation = nullptr) {
  const bc::Program& program = engine.program();
  ReferenceDecision out;
  out.outcome = d.outcome;
  out.challenge = std::string(d.challenge);
  for (const DecidingRule& rule : d.rules) {
    RuleRef ref;
    ref.rule = static_cast<int>(rule.rule);
    ref.name = std::string(rule.name);
    ref.policy_name = std::string(rule.policy);
    ref.file = std::string(rule.file);
    ref.line = rule.line;
    out.rules.push_back(std::move(ref));
  }
  for (std::string_view reason : d.reasons) out.reasons.emplace_back(reason);
  // Obligations and advice: printed by VmExtrasJson.
  for (const DecisionError& error : d.errors) {
    ReferenceError e;
    e.code = error.code;
    // The reference names a risk score's errors "risk NAME".
    e.rule = error.what == "risk factor" ? absl::StrCat("risk ", std::string(error.where))
                                         : std::string(error.where);
    e.message = engine.ErrorMessage(error, &frame);
    e.file = std::string(error.file);  // the failing expression's line
    e.line = error.line;
    out.errors.push_back(std::move(e));
  }
  if (explanation != nullptr) {
    for (const RuleExplanation& rule : explanation->rules) {
      ExplainedRule e;
      e.rule.rule = static_cast<int>(rule.rule);
      e.rule.name = std::string(rule.name);
      e.rule.policy_name = std::string(rule.policy);
      e.rule.file = std::string(rule.file);
      e.rule.line = rule.line;
      e.effect = rule.effect;
      e.status = RuleStatusName(rule.status);
      e.error = rule.error;
      e.failed_conditions = rule.failed_conditions;
      out.explain.push_back(std::move(e));
    }
  }
  for (const auto& [name, score] : d.risks) out.risks.emplace_back(std::string(name), score);
  for (uint32_t limit : d.limits_read) {
    if (limit < program.limits.size()) out.limits_read.push_back(program.limits[limit].name);
  }
  return out;
}

// `--data` for the VM: a JSON object of values, read as `warden serve` reads
// it (runtime/data_json.h).
bool DataForVm(const std::string& path, EngineOptions* options) {
  absl::StatusOr<std::string> text = ReadFileText(path, 64 << 20);
  if (!text.ok()) {
    PrintError(std::string(text.status().message()));
    return false;
  }
  absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> data = ParseDataJson(*text);
  if (!data.ok()) {
    PrintError(absl::StrCat(path, ": ", data.status().message()));
    return false;
  }
  options->data = *std::move(data);
  return true;
}

bool IsBundleFile(const std::vector<std::string>& paths) {
  if (paths.size() != 1) return false;
  std::ifstream in(paths[0], std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::equal(magic, magic + 4, bc::kBundleMagic);
}

int RunEvalVm(const EvalFlags& flags) {
  EngineOptions engine_options;
  if (!flags.data.empty() && !DataForVm(flags.data, &engine_options)) return kExitUsage;
  absl::StatusOr<std::unique_ptr<Engine>> engine;
  if (IsBundleFile(flags.policies)) {
    engine = Engine::FromFile(flags.policies[0], std::move(engine_options));
  } else {
    BuildOptions options;
    options.compile.stdlib_dir = flags.stdlib;
    options.codegen.explain_conjuncts = flags.explain;  // the failed conditions of permit rules
    EngineBuild build =
        CompileToEngine(PolicySources::Paths(flags.policies), options, std::move(engine_options));
    if (build.compilation == nullptr) {
      PrintError(std::string(build.engine.status().message()));
      return kExitUsage;
    }
    if (build.compilation->program == nullptr) {
      std::cerr << build.engine.status().message() << "\n";  // the rendered diagnostics
      return kExitFindings;
    }
    if (!build.engine.ok() && !build.load_failed) {  // code generation failed
      PrintError(std::string(build.engine.status().message()));
      return kExitFindings;
    }
    engine = std::move(build.engine);
  }
  if (!engine.ok()) {
    PrintError(std::string(engine.status().message()));
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
  rt::DecoderOptions decoder_options;
  decoder_options.strict = flags.strict;
  JsonSession session(**engine, decoder_options);
  Decision decision;
  Explanation explanation;
  constexpr auto kReplace = json::error_handler_t::replace;
  std::string line;
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool ok = flags.explain ? (*engine)->ExplainJson(line, session, &decision, &explanation)
                            : (*engine)->DecideJson(line, session, &decision);
    std::vector<RequestError> problems;
    for (const rt::RequestError& error : session.errors()) {
      problems.push_back(RequestError{rt::RequestErrorCategory(error.code), error.json_path,
                                      error.message, Span{}});
    }
    json out = BadRequestJson(problems);
    if (ok) {
      out = DecisionJson(
          FromVm(**engine, decision, session.frame(), flags.explain ? &explanation : nullptr),
          problems, flags.explain);
      out["obligations"] = VmExtrasJson(decision, /*obligations=*/true);
      out["advice"] = VmExtrasJson(decision, /*obligations=*/false);
      if (flags.explain) {
        // A bundle compiled without conjuncts cannot say which conditions failed.
        for (size_t k = 0; k < explanation.rules.size() && k < out["explain"].size(); ++k) {
          if (explanation.rules[k].conditions_unavailable)
            out["explain"][k]["failed_conditions"] = "unavailable: compiled without conjuncts";
        }
      }
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

int RunEval(const EvalFlags& flags) {
  if (flags.engine == "vm") return RunEvalVm(flags);
  int exit_code = kExitOk;
  std::unique_ptr<Compilation> compiled = CompileOrReport(flags.policies, flags.stdlib, &exit_code);
  if (compiled == nullptr) return exit_code;
  const Compilation& compilation = *compiled;
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
      app.add_subcommand("eval", "Decide JSON-lines requests (the bytecode VM, or the reference)");
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
  command
      ->add_option("--engine", flags->engine,
                   "vm: the bytecode VM and its JSON decoder; reference: the tree-walking "
                   "reference evaluator")
      ->check(CLI::IsMember({"vm", "reference"}))
      ->capture_default_str();
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
