// The client's network: the IP lists it is on (context.network.listed,
// raised as listed_ip:NAME) and what the Anonymous-IP database says of it
// (context.network.{anonymous, hosting, tor}). Also writes context.ip.
#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {
namespace {

class NetworkSignal final : public Signal {
 public:
  std::optional<SignalFailure> Look(CheckFacts& facts, std::string* signals) const override {
    if (!facts.ip) return std::nullopt;
    for (const auto& [name, list] : facts.network->ip_lists) {
      if (list->Contains(facts.ip_net)) {
        facts.listed = true;
        RaiseSignal(absl::StrCat("listed_ip:", name), signals);
      }
    }
    if (facts.network->geo_anonymous == nullptr) return std::nullopt;
    absl::StatusOr<std::optional<AnonymousIp>> found =
        facts.network->geo_anonymous->LookupAnonymous(facts.ip_net);
    if (!found.ok())
      return SignalFailure{AuthError::kGeoIpUnavailable, std::string(found.status().message())};
    if (*found) {
      facts.anonymous = (*found)->anonymous || (*found)->vpn || (*found)->residential_proxy;
      facts.hosting = (*found)->hosting;
      facts.tor = (*found)->tor;
    }
    return std::nullopt;
  }

  void Compute(const CheckFacts& facts, ContextWriter& out) const override {
    if (facts.ip) AppendJsonString(*facts.ip, &out.Member(ContextKey::ip));
    if (facts.anonymous) out.Raise("anonymous_network");
    if (facts.hosting) out.Raise("hosting_network");
    if (facts.tor) out.Raise("tor");
    absl::StrAppend(&out.Member(ContextKey::network), "{\"anonymous\":", Bool(facts.anonymous),
                    ",\"hosting\":", Bool(facts.hosting), ",\"tor\":", Bool(facts.tor),
                    ",\"listed\":", Bool(facts.listed), "}");
  }

 private:
  static const char* Bool(bool value) { return value ? "true" : "false"; }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeNetworkSignal(const SignalDeps& /*deps*/) {
  return std::make_unique<NetworkSignal>();
}

}  // namespace warden::auth
