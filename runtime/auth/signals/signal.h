// A risk signal as the /v1/check service drives it (signal_registry.h loops
// over all of them; the service names none).
//
// A check runs the signals in registry order, in four steps:
//   Look     reads that can fail (a GeoIP database): any failure refuses the
//            check, fail closed; it may fill the check's address facts
//   Compute  writes the signal's `context` members into the decision request
//            and raises its names into the answer's "signals"
//   (the policies decide)
//   Record   what the decision teaches (most signals learn from permits only)
// and, outside checks: Sweep (periodic, from Tick) and its stored tables'
// import (start-up) and flush (Tick, shutdown) through PersistedTable.
//
// Signals are shared by every thread: Look and Compute are const, and the
// tables are thread-safe. Everything one check knows lives in CheckFacts.
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_SIGNAL_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_SIGNAL_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "compiler/builtin_attributes.h"
#include "runtime/auth/auth_error.h"
#include "runtime/auth/signals/geoip.h"
#include "runtime/auth/signals/network_files.h"
#include "runtime/auth/state_rows.h"
#include "runtime/bytecode/program.h"
#include "runtime/decision_json.h"
#include "runtime/frame.h"
#include "warden/engine.h"

namespace warden::auth {

// One check, as the signals see it.
struct CheckFacts {
  absl::Time now;
  std::string_view subject;      // the verified subject's id
  std::string_view subject_key;  // "s:SUBJECT", its failed-attempt key
  // context.ip as sent (a valid address). Tables key on ip_net or ip_key,
  // never on this text: ::ffff:10.0.0.1 and 2001:DB8::1 are other
  // spellings of 10.0.0.1 and 2001:db8::1 (issue 12, item 5).
  std::optional<std::string_view> ip;
  bc::IpNet ip_net{};
  std::string_view ip_key;  // "ip:ADDRESS", "" without context.ip
  std::optional<std::string_view> device_id;
  const NetworkSnapshot* network = nullptr;  // the lists and databases of this check

  // The client address, filled by Look.
  bool listed = false;
  bool anonymous = false;  // anonymous, VPN or residential proxy
  bool hosting = false;
  bool tor = false;
  std::optional<GeoLocation> place;
};

// What the decision was, for Record.
struct DecidedFacts {
  const Decision& decision;
  const bc::Program& program;
  const rt::Frame& frame;
  const std::vector<std::string>& limit_keys;  // by limit index
  bool permit() const { return decision.outcome == rt::Outcome::kPermit; }
};

// Appends `name` to a JSON array's members ("a","b").
void RaiseSignal(std::string_view name, std::string* signals);

// The members of the decision request's `context` object after "time": only
// built-in ones (compiler/builtin_attributes.h).
class ContextWriter {
 public:
  ContextWriter(std::string* json, std::string* signals) : json_(json), signals_(signals) {}
  // Starts the member (the comma, the key, the colon) and returns the buffer
  // its raw JSON value goes to.
  std::string& Member(ContextKey key);
  void Raise(std::string_view signal) { RaiseSignal(signal, signals_); }

 private:
  std::string* json_;
  std::string* signals_;
};

// Why Look refuses a check.
struct SignalFailure {
  AuthError error = AuthError::kGeoIpUnavailable;
  std::string detail;
};

// A table a signal keeps, under its kind in the state store.
struct StoredTable {
  std::string_view kind;  // "devices", "last_signin", …
  PersistedTable* table;
};

class Signal {
 public:
  virtual ~Signal() = default;
  virtual std::vector<StoredTable> tables() { return {}; }
  virtual void Sweep(absl::Time /*now*/) {}
  virtual std::optional<SignalFailure> Look(CheckFacts& /*facts*/, std::string* /*signals*/) const {
    return std::nullopt;
  }
  virtual void Compute(const CheckFacts& facts, ContextWriter& out) const = 0;
  virtual void Record(const CheckFacts& /*facts*/, const DecidedFacts& /*decided*/,
                      std::string* /*signals*/) {}
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_SIGNAL_H_
