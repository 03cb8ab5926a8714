// Known networks: whether the subject has signed in from the client's
// network before (context.known_network). The network is the address's /24
// for IPv4 (IPv4-mapped IPv6 too) and its /48 for IPv6, so an address that
// changes within one provider's block stays known. Raised as new_network
// only for a subject that has signed in from some other network: a first
// sign-in has nothing to compare with. A permit remembers the network.
//
// Kept like known devices (devices.h): per subject, at most
// devices_per_subject networks, hashed, least recently seen forgotten
// first; stored as kind "networks".
#include "absl/strings/str_format.h"
#include "runtime/auth/signals/devices.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {
namespace {

// "192.0.2.0/24", "2001:db8:1::/48".
std::string NetworkOf(const bc::IpNet& ip) {
  const uint8_t* b = ip.bytes;
  const bool mapped = ip.v6 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 0 &&
                      b[5] == 0 && b[6] == 0 && b[7] == 0 && b[8] == 0 && b[9] == 0 &&
                      b[10] == 0xff && b[11] == 0xff;
  if (!ip.v6 || mapped) {
    const uint8_t* v4 = mapped ? b + 12 : b;
    return absl::StrFormat("%d.%d.%d.0/24", v4[0], v4[1], v4[2]);
  }
  return absl::StrFormat("%x:%x:%x::/48", b[0] << 8 | b[1], b[2] << 8 | b[3], b[4] << 8 | b[5]);
}

class KnownNetworkSignal final : public Signal {
 public:
  explicit KnownNetworkSignal(const AuthConfig& config)
      : networks_(config.max_subjects, config.devices_per_subject) {}

  std::vector<StoredTable> tables() override { return {{"networks", &networks_}}; }

  void Compute(const CheckFacts& facts, ContextWriter& out) const override {
    const bool known = facts.ip && networks_.Known(facts.subject, NetworkOf(facts.ip_net));
    if (facts.ip && !known && networks_.HasAny(facts.subject)) out.Raise("new_network");
    out.Member(ContextKey::known_network).append(known ? "true" : "false");
  }

  void Record(const CheckFacts& facts, const DecidedFacts& decided,
              std::string* /*signals*/) override {
    if (decided.permit() && facts.ip)
      networks_.Remember(facts.subject, NetworkOf(facts.ip_net), facts.now);
  }

 private:
  KnownDevices networks_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeKnownNetworkSignal(const SignalDeps& deps) {
  return std::make_unique<KnownNetworkSignal>(deps.config);
}

}  // namespace warden::auth
