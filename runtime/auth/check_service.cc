// The /v1/check pipeline (see check_service.h), one named stage a step:
//   parse the body     check/check_body.h
//   authenticate       check/authenticate.h
//   look               SignalRegistry::Look (reads that fail closed)
//   the request        check/decision_request.h (the signals compute its context)
//   decide             check/decide.h
//   record             check/record.h
//   answer             check/answer.h
#include "runtime/auth/check_service.h"

#include "absl/strings/str_cat.h"
#include "runtime/auth/check/answer.h"
#include "runtime/auth/check/authenticate.h"
#include "runtime/auth/check/check_body.h"
#include "runtime/auth/check/decide.h"
#include "runtime/auth/check/decision_request.h"
#include "runtime/auth/check/record.h"
#include "runtime/auth/signals/network_files.h"
#include "runtime/auth/signals/signal_registry.h"
#include "runtime/auth/state_store.h"
#include "runtime/decision_json.h"
#include "runtime/values/ip.h"

namespace warden::auth {
namespace {

// How often Tick drops expired attempt streaks and refilled token buckets.
constexpr absl::Duration kSweepInterval = absl::Minutes(1);

}  // namespace

// ---------------------------------------------------------------- sessions

struct CheckService::Session::Impl {
  BodyParser parser;
  CheckBody check;
  std::string request;                  // the decision request built for the engine
  std::vector<std::string> limit_keys;  // by limit index, for this request
  std::string signals;                  // a JSON array's members
  Decision refusal;                     // what a refusal renders
};

CheckService::Session::Session() : impl_(std::make_unique<Impl>()) {}
CheckService::Session::~Session() = default;
std::string_view CheckService::Session::decision_request() const { return impl_->request; }

// ---------------------------------------------------------------- the service

struct CheckService::Impl {
  AuthConfig config;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<Authenticator> authenticator;
  SourceReports reports;  // before network_files, which reports to it
  NetworkFiles network_files{config, &reports};
  std::unique_ptr<SignalRegistry> signals;

  absl::Time last_flush;
  absl::Time last_poll;
  absl::Time last_sweep;

  explicit Impl(const AuthConfig& c) : config(c) {}

  absl::Status Start(absl::Time now);
  CheckOutcome Run(std::string_view body, const Engine& engine, JsonSession& json, Session::Impl& s,
                   Decision* decision, absl::Time now, std::string* out);
  CheckOutcome Refuse(const Refusal& refusal, const Engine& engine, Session::Impl& s,
                      std::string_view ip_key, Decision* decision, absl::Time now,
                      std::string* out);
};

CheckService::CheckService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CheckService::~CheckService() = default;

// The state database, the credentials, the network files, the signals, then
// the state: revocations and keys, and the signal tables.
absl::Status CheckService::Impl::Start(absl::Time now) {
  StateStoreOptions store_options;
  store_options.create_if_missing = config.create_state;
  absl::StatusOr<std::unique_ptr<StateStore>> opened =
      StateStore::Open(config.state, store_options);
  if (!opened.ok()) return opened.status();
  store = *std::move(opened);
  absl::StatusOr<std::unique_ptr<Authenticator>> auth = Authenticator::Create(config, *store);
  if (!auth.ok()) return auth.status();
  authenticator = *std::move(auth);
  if (absl::Status status = network_files.Reload(/*initial=*/true); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<SignalRegistry>> registry = SignalRegistry::Create(config);
  if (!registry.ok()) return registry.status();
  signals = *std::move(registry);
  if (absl::Status status = authenticator->Load(now); !status.ok()) return status;
  if (absl::Status status = signals->Import(*store); !status.ok()) return status;
  // Listed in the status from the start (network_files reported its own).
  reports.Loaded(UpdateSource::kState, config.state, now);
  for (const IssuerSettings& issuer : config.issuers) {
    const std::string& jwks = issuer.verify.jwks_file;
    if (!jwks.empty()) reports.Loaded(UpdateSource::kJwks, jwks, now);
  }
  last_flush = last_poll = last_sweep = now;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CheckService>> CheckService::Create(const AuthConfig& config,
                                                                   absl::Time now) {
  auto impl = std::make_unique<Impl>(config);
  if (absl::Status status = impl->Start(now); !status.ok()) return status;
  return std::unique_ptr<CheckService>(new CheckService(std::move(impl)));
}

absl::Status CheckService::Flush() { return impl_->signals->Flush(*impl_->store); }

void CheckService::Tick(absl::Time now) {
  Impl& i = *impl_;
  if (now - i.last_poll >= i.config.poll_interval) {
    i.last_poll = now;
    i.authenticator->Poll(now, i.reports);
    (void)i.network_files.Reload(/*initial=*/false);
  }
  // What a sweep drops says nothing a missing entry does not (expired
  // attempt streaks, full token buckets); their rows go at the next flush.
  if (now - i.last_sweep >= kSweepInterval) {
    i.last_sweep = now;
    i.signals->Sweep(now);
  }
  if (now - i.last_flush >= i.config.flush_interval) {
    i.last_flush = now;
    if (absl::Status status = Flush(); status.ok()) {
      i.reports.Loaded(UpdateSource::kState, i.config.state, now);
    } else {
      i.reports.StateWriteFailed(i.config.state, status, now);
    }
  }
}

SourceReports& CheckService::reports() { return impl_->reports; }

// ---------------------------------------------------------------- one check

CheckOutcome CheckService::Impl::Refuse(const Refusal& refusal, const Engine& engine,
                                        Session::Impl& s, std::string_view ip_key,
                                        Decision* decision, absl::Time now, std::string* out) {
  RecordRefusal(signals->attempts(), refusal, ip_key, now);
  decision->Clear();
  decision->outcome = rt::Outcome::kDeny;
  AppendRefusalAnswer(engine, refusal, s.signals, &s.refusal, out);
  CheckOutcome outcome;
  outcome.auth_error = refusal.error;
  return outcome;
}

CheckOutcome CheckService::Impl::Run(std::string_view body, const Engine& engine, JsonSession& json,
                                     Session::Impl& s, Decision* decision, absl::Time now,
                                     std::string* out) {
  CheckOutcome outcome;
  s.request.clear();
  s.signals.clear();
  if (std::optional<BadRequest> bad =
          ParseCheckBody(body, signals->computed_keys(), s.parser, &s.check)) {
    outcome.http_status = 400;
    outcome.bad_request = bad->code;
    AppendBadRequestAnswer(*bad, out);
    return outcome;
  }
  const CheckBody& check = s.check;
  // Keyed on the address, not its spelling: ::ffff:10.0.0.1 is 10.0.0.1.
  const std::string ip_key =
      check.ip ? absl::StrCat("ip:", values::IpString(check.ip_net)) : std::string();
  Identity identity;
  if (std::optional<Refusal> refused =
          authenticator->Authenticate(check, ip_key, signals->attempts(), now, &identity)) {
    if (refused->error == AuthError::kLockedOut) RaiseSignal("locked_out", &s.signals);
    return Refuse(*refused, engine, s, ip_key, decision, now, out);
  }
  const std::string subject_key = absl::StrCat("s:", identity.subject);
  const std::shared_ptr<const NetworkSnapshot> network = network_files.Current();
  CheckFacts facts;
  facts.now = now;
  facts.subject = identity.subject;
  facts.subject_key = subject_key;
  facts.ip = check.ip;
  facts.ip_net = check.ip_net;
  facts.ip_key = ip_key;
  facts.device_id = check.device_id;
  facts.network = network.get();
  // A database that cannot be read must not make a request look safe.
  if (std::optional<SignalFailure> failed = signals->Look(facts, &s.signals))
    return Refuse(Refusal{failed->error, std::move(failed->detail), {}}, engine, s, ip_key,
                  decision, now, out);
  WriteDecisionRequest(check, identity, facts, *signals, &s.request, &s.signals);
  if (!DecideCheck(engine, json, signals->limiter(), s.request, now, &s.limit_keys, decision)) {
    AppendBadRequestJson(json.errors(), out);
    outcome.http_status = 400;
    outcome.bad_request = "bad_request";
    return outcome;
  }
  outcome.decided = true;
  RecordDecision(*signals, facts,
                 DecidedFacts{*decision, engine.program(), json.frame(), s.limit_keys}, &s.signals);
  AppendDecisionAnswer(engine, *decision, json.errors(), identity, s.signals, out);
  return outcome;
}

CheckOutcome CheckService::Check(std::string_view body, const Engine& engine,
                                 JsonSession& json_session, Session& session, Decision* decision,
                                 absl::Time now, std::string* out) noexcept {
  try {
    return impl_->Run(body, engine, json_session, *session.impl_, decision, now, out);
  } catch (...) {  // allocation failure: fail closed
    decision->Clear();
    decision->outcome = rt::Outcome::kDeny;
    out->clear();
    CheckOutcome outcome;
    outcome.http_status = 500;
    outcome.bad_request = "internal";
    AppendRefusalJson("internal", "internal error", /*path=*/"", {}, out);
    return outcome;
  }
}

}  // namespace warden::auth
