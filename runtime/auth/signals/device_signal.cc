// Known devices: whether the subject signed in from context.device.id
// before (context.device.known, raised as new_device). A permit remembers
// the device.
#include "absl/strings/str_cat.h"
#include "runtime/auth/signals/devices.h"
#include "runtime/auth/signals/signal_registry.h"

namespace warden::auth {
namespace {

class DeviceSignal final : public Signal {
 public:
  explicit DeviceSignal(const AuthConfig& config)
      : devices_(config.max_subjects, config.devices_per_subject) {}

  std::vector<StoredTable> tables() override { return {{"devices", &devices_}}; }

  void Compute(const CheckFacts& facts, ContextWriter& out) const override {
    const bool known =
        facts.device_id.has_value() && devices_.Known(facts.subject, *facts.device_id);
    std::string& r = out.Member(ContextKey::device);
    r.push_back('{');
    if (facts.device_id) {
      r.append("\"id\":");
      AppendJsonString(*facts.device_id, &r);
      r.push_back(',');
      if (!known) out.Raise("new_device");
    }
    absl::StrAppend(&r, "\"known\":", known ? "true" : "false", "}");
  }

  void Record(const CheckFacts& facts, const DecidedFacts& decided,
              std::string* /*signals*/) override {
    if (decided.permit() && facts.device_id)
      devices_.Remember(facts.subject, *facts.device_id, facts.now);
  }

 private:
  KnownDevices devices_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Signal>> MakeDeviceSignal(const SignalDeps& deps) {
  return std::make_unique<DeviceSignal>(deps.config);
}

}  // namespace warden::auth
