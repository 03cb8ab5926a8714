// The decision engine: loading a verified program, and the embedding API.
// Each job of the engine has its own file under runtime/engine/ (see
// engine_impl.h); this one loads a bundle and answers the API's calls.
//
// Decide, for one request frame:
//   1. effective roles: the closures of the subject's roles and of the roles
//      its active JIT grants give, as one bitset;
//   2. static separation of duties on those roles: a subject holding two
//      separated roles is denied at once;
//   3. the roots, combined deny_overrides, walking only the index's part for
//      the request's resource type, and in each policy only the rules for
//      the request's action (so unrelated policies cost nothing);
//   4. the decision: outcome, deciding rules (file:line), reasons,
//      obligations and advice of the deciding rules, errors.
#include "warden/engine.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "runtime/bytecode/bundle.h"
#include "runtime/engine/engine_impl.h"

namespace warden {

using bc::ValueKind;

absl::Status Engine::Impl::Prepare() {
  const bc::Program& p = program;
  rt::Prepared& P = prepared;
  P.program = &program;
  // Constants: strings view the program's pool; sets view `members`.
  size_t member_count = 0;
  for (const bc::Constant& k : p.constants) member_count += k.elements.size();
  P.members.resize(member_count);
  P.constants.resize(p.constants.size());
  size_t next_member = 0;
  for (size_t i = 0; i < p.constants.size(); ++i) {
    const bc::Constant& k = p.constants[i];
    Value& v = P.constants[i];
    switch (k.kind) {
      case ValueKind::kString:
        v.s = rt::StrRef{k.s.data(), static_cast<uint32_t>(k.s.size())};
        break;
      case ValueKind::kIp:
        v.ip = &k.ip;
        break;
      case ValueKind::kSet: {
        Value* members = P.members.data() + next_member;
        for (size_t j = 0; j < k.elements.size(); ++j) members[j] = P.constants[k.elements[j]];
        v.set = rt::SetRef{members, static_cast<uint32_t>(k.elements.size()), k.element, true, 0};
        next_member += k.elements.size();
        break;
      }
      default:
        v.i = k.i;
        break;
    }
  }
  P.entries.resize(p.blocks.size());
  for (size_t b = 0; b < p.blocks.size(); ++b) {
    const bc::CodeBlock& block = p.blocks[b];
    rt::Prepared::Entry& entry = P.entries[b];
    entry.code = p.code.data() + block.begin;
    if (block.size == 2 && entry.code[0].op == bc::Op::kLOAD && entry.code[1].op == bc::Op::kRET &&
        entry.code[1].a == entry.code[0].a) {
      entry.shape = rt::Prepared::Entry::kLoadSlot;
      entry.operand = entry.code[0].c;
    }
  }
  for (const std::string& pattern : p.regexes) {
    RE2::Options re_options;
    re_options.set_log_errors(false);
    re_options.set_max_mem(options.limits.max_regex_memory);
    auto re = std::make_unique<RE2>(pattern, re_options);
    if (!re->ok())
      return absl::InvalidArgumentError(absl::StrCat("regex does not compile: ", re->error()));
    P.regexes.push_back(std::move(re));
  }
  for (const std::string& zone : p.zones) {
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(zone, &tz))
      return absl::InvalidArgumentError(absl::StrCat("unknown time zone ", zone));
    P.zones.push_back(tz);
  }
  P.default_kind.assign(p.slot_count, rt::Prepared::kNoDefault);
  P.defaults.resize(p.slot_count);
  for (const bc::Attribute& a : p.attributes) {
    if (a.default_value == bc::kDefaultNow) {
      P.default_kind[a.slot] = rt::Prepared::kNowDefault;
    } else if (a.default_value >= 0) {
      P.default_kind[a.slot] = rt::Prepared::kConstantDefault;
      P.defaults[a.slot] = P.constants[a.default_value];
    }
    if (a.path == "subject.roles") roles_slot = static_cast<int>(a.slot);
  }
  P.role_words = (p.roles.size() + 63) / 64;
  P.role_closure.assign(p.roles.size() * P.role_words, 0);
  for (size_t r = 0; r < p.roles.size(); ++r) {
    role_by_name.emplace(p.roles[r].name, static_cast<uint32_t>(r));
    if (p.roles.size() <= kRoleScanLimit) role_names.emplace_back(p.roles[r].name);
    uint64_t* bits = P.role_closure.data() + r * P.role_words;
    bits[r / 64] |= uint64_t{1} << (r % 64);
    for (uint32_t c : p.roles[r].closure) bits[c / 64] |= uint64_t{1} << (c % 64);
  }
  for (const bc::Separation& s : p.separations) {
    std::string file = s.file < p.files.size() ? p.files[s.file] : "?";
    separation_reasons.push_back(
        absl::StrCat("the subject holds roles that are separated (", file, ":", s.line, ")"));
  }
  for (const bc::Risk& risk : p.risks) risk_labels.push_back(absl::StrCat("risk ", risk.name));
  slot_attribute.assign(p.slot_count, -1);
  for (size_t a = 0; a < p.attributes.size(); ++a) {
    uint32_t slot = p.attributes[a].slot;
    if (slot < slot_attribute.size() && slot_attribute[slot] < 0)
      slot_attribute[slot] = static_cast<int32_t>(a);
  }
  if (absl::Status status = PrepareData(); !status.ok()) return status;
  BuildIndex();
  request_schema = rt::BuildRequestSchema(program);
  return absl::OkStatus();
}

// -------------------------------------------------------------------- Engine

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::FromBundle(std::string_view bytes,
                                                           EngineOptions options) {
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<bc::Program> program = bc::ReadBundle(bytes, options.limits, &impl->hash);
  if (!program.ok()) return program.status();
  impl->program = std::move(*program);
  impl->options = std::move(options);
  if (absl::Status status = impl->Prepare(); !status.ok()) return status;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::FromFile(const std::string& path,
                                                         EngineOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) return absl::InternalError(absl::StrCat("cannot read ", path));
  if (static_cast<uint64_t>(size) > options.limits.max_bundle_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": ", size, " bytes exceed max_bundle_bytes"));
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path));
  return FromBundle(bytes, std::move(options));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::FromProgram(bc::Program program,
                                                            EngineOptions options) {
  std::string bundle = bc::WriteBundle(program);
  return FromBundle(bundle, std::move(options));
}

const bc::Program& Engine::program() const { return impl_->program; }
const std::string& Engine::bundle_hash() const { return impl_->hash; }

rt::Frame Engine::NewFrame(rt::FrameOptions options) const {
  return rt::Frame(impl_->program, options);
}

int Engine::SlotOf(std::string_view path) const {
  int index = impl_->program.FindAttribute(path);
  return index < 0 ? -1 : static_cast<int>(impl_->program.attributes[index].slot);
}

void Engine::Decide(const rt::Frame& frame, Decision* decision) const noexcept {
  try {
    impl_->Decide<false>(frame, decision, nullptr);
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
}

void Engine::Explain(const rt::Frame& frame, Decision* decision,
                     Explanation* explanation) const noexcept {
  try {
    impl_->Decide<true>(frame, decision, explanation);
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
}

std::string Engine::ErrorMessage(const DecisionError& error, const rt::Frame* frame) const {
  if (error.code == rt::EvalError::kSeparationOfDuties || error.code == rt::EvalError::kBadRequest)
    return std::string(error.what);
  return impl_->ErrorMessage(error.code, error.instruction, frame);
}

Decision Engine::Decide(const rt::Frame& frame) const {
  Decision decision;
  Decide(frame, &decision);
  return decision;
}

const std::shared_ptr<const rt::RequestSchema>& Engine::request_schema() const {
  return impl_->request_schema;
}

namespace {

// Decodes `json` into the session's frame and runs `decide` on it; a request
// that cannot be evaluated is a deny with bad_request errors (DecideJson).
template <typename F>
bool DecodeAndDecide(std::string_view json, JsonSession& session, const std::string& hash,
                     Decision* decision, F decide) noexcept {
  try {
    if (session.decoder().Decode(json, &session.frame())) {
      decide(session.frame());
      return true;
    }
    decision->Clear();
    decision->bundle_hash = hash;
    decision->outcome = rt::Outcome::kDeny;
    const std::vector<rt::RequestError>& errors = session.errors();
    // The fatal error is the last one (earlier entries: problems before it).
    for (const rt::RequestError& error : errors) {
      if (rt::IsFatal(error.code) || session.decoder().options().strict) {
        decision->errors.push_back(DecisionError{
            rt::EvalError::kBadRequest, error.json_path, error.message, {}, 0, kNoInstruction});
      }
    }
    if (decision->errors.empty())
      decision->errors.push_back(
          DecisionError{rt::EvalError::kBadRequest, "", "bad request", {}, 0, kNoInstruction});
  } catch (...) {  // allocation failure: fail closed
    decision->outcome = rt::Outcome::kDeny;
  }
  return false;
}

}  // namespace

bool Engine::DecideJson(std::string_view json, JsonSession& session,
                        Decision* decision) const noexcept {
  return DecodeAndDecide(json, session, impl_->hash, decision,
                         [&](const rt::Frame& frame) { Decide(frame, decision); });
}

bool Engine::ExplainJson(std::string_view json, JsonSession& session, Decision* decision,
                         Explanation* explanation) const noexcept {
  explanation->Clear();
  return DecodeAndDecide(json, session, impl_->hash, decision,
                         [&](const rt::Frame& frame) { Explain(frame, decision, explanation); });
}

DecisionOrRequestError Engine::DecideJson(std::string_view json, JsonSession& session) const {
  DecisionOrRequestError out;
  out.ok = DecideJson(json, session, &out.decision);
  out.errors = session.errors();
  return out;
}

JsonSession::JsonSession(const Engine& engine, rt::DecoderOptions options)
    : decoder_(std::make_unique<rt::RequestDecoder>(engine.program(), engine.request_schema(),
                                                    std::move(options))),
      frame_(engine.NewFrame()) {}
JsonSession::~JsonSession() = default;
JsonSession::JsonSession(JsonSession&&) noexcept = default;
JsonSession& JsonSession::operator=(JsonSession&&) noexcept = default;

const std::vector<rt::RequestError>& JsonSession::errors() const { return decoder_->errors(); }

}  // namespace warden
