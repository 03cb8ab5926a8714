#include "runtime/auth/signals/signal_registry.h"

#include "runtime/decision_json.h"

namespace warden::auth {

// The signals in the order they run: the order of the context members they
// write and of the names they raise. ORDER SIGNAL: the answer's "signals"
// list and the decision request follow it.
#define WARDEN_SIGNALS(X) \
  X(Network)              \
  X(Geo)                  \
  X(Device)               \
  X(Attempts)             \
  X(Hours)                \
  X(KnownNetwork)         \
  X(Limits)

// Each factory is defined in signals/NAME_signal.cc.
#define WARDEN_SIGNAL_FACTORY(name) \
  absl::StatusOr<std::unique_ptr<Signal>> Make##name##Signal(const SignalDeps& deps);
WARDEN_SIGNALS(WARDEN_SIGNAL_FACTORY)
#undef WARDEN_SIGNAL_FACTORY

void RaiseSignal(std::string_view name, std::string* signals) {
  if (!signals->empty()) signals->push_back(',');
  AppendJsonString(name, signals);
}

std::string& ContextWriter::Member(ContextKey key) {
  json_->push_back(',');
  AppendJsonString(ContextKeyName(key), json_);
  json_->push_back(':');
  return *json_;
}

SignalRegistry::SignalRegistry(const AuthConfig& config)
    : attempts_(AttemptPolicy{config.lockout_after, config.attempts_window, config.base_lockout,
                              config.max_lockout},
                config.max_subjects),
      limiter_(config.max_buckets) {}

absl::StatusOr<std::unique_ptr<SignalRegistry>> SignalRegistry::Create(const AuthConfig& config) {
  std::unique_ptr<SignalRegistry> registry(new SignalRegistry(config));
  const SignalDeps deps{config, registry->attempts_, registry->limiter_};
#define WARDEN_SIGNAL_MAKE(name)                                               \
  {                                                                            \
    absl::StatusOr<std::unique_ptr<Signal>> signal = Make##name##Signal(deps); \
    if (!signal.ok()) return signal.status();                                  \
    registry->signals_.push_back(*std::move(signal));                          \
  }
  WARDEN_SIGNALS(WARDEN_SIGNAL_MAKE)
#undef WARDEN_SIGNAL_MAKE
  for (const BuiltinAttribute& attribute : kBuiltinAttributes) {
    if (attribute.record == "context" && attribute.source == BuiltinSource::kComputed)
      registry->computed_keys_.push_back(attribute.name);
  }
  return registry;
}

absl::Status SignalRegistry::Import(StateStore& store) {
  for (const std::unique_ptr<Signal>& signal : signals_) {
    for (const StoredTable& stored : signal->tables()) {
      PersistedTable* table = stored.table;
      absl::Status status = store.LoadRows(
          stored.kind,
          [table](std::string_view key, std::string_view value) { table->Import(key, value); });
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::Status SignalRegistry::Flush(StateStore& store) {
  absl::Status first;
  for (const std::unique_ptr<Signal>& signal : signals_) {
    for (const StoredTable& stored : signal->tables()) {
      const StateRows rows = stored.table->TakeDirty();
      if (rows.empty()) continue;
      absl::Status status = store.SaveRows(stored.kind, rows);
      if (!status.ok() && first.ok()) first = status;
    }
  }
  return first;
}

void SignalRegistry::Sweep(absl::Time now) {
  for (const std::unique_ptr<Signal>& signal : signals_) signal->Sweep(now);
}

std::optional<SignalFailure> SignalRegistry::Look(CheckFacts& facts, std::string* signals) const {
  std::optional<SignalFailure> failure;
  for (const std::unique_ptr<Signal>& signal : signals_) {
    if (std::optional<SignalFailure> failed = signal->Look(facts, signals)) failure = failed;
  }
  return failure;
}

void SignalRegistry::Compute(const CheckFacts& facts, ContextWriter& out) const {
  for (const std::unique_ptr<Signal>& signal : signals_) signal->Compute(facts, out);
}

void SignalRegistry::Record(const CheckFacts& facts, const DecidedFacts& decided,
                            std::string* signals) {
  for (const std::unique_ptr<Signal>& signal : signals_) signal->Record(facts, decided, signals);
}

}  // namespace warden::auth
