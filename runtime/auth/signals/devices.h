// Known devices: the device ids (or client fingerprint hashes) each subject
// has signed in from before. Feeds context.device.known (see risk_signals.h).
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_DEVICES_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_DEVICES_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "runtime/auth/signals/state_table.h"
#include "runtime/auth/state_rows.h"

namespace warden::auth {

// Per subject, up to max_per_subject devices with their last-seen time; a
// new device beyond that replaces the least recently seen one. Thread-safe,
// bounded (least recently updated subjects are evicted).
//
// Device ids are never kept raw: only the first 128 bits of SHA-256(id) —
// or HMAC-SHA256(hash_key, id) when a key is configured, so that the store
// alone does not let anyone test guesses of low-entropy fingerprints — as
// 32 lowercase hex digits. Changing the key forgets every device.
// Persisted value: "1|HASH:UNIX_MICROS,HASH:UNIX_MICROS,..." (most recent first).
class KnownDevices final : public PersistedTable {
 public:
  struct Device {
    std::string hash;
    absl::Time last_seen;
    bool operator==(const Device&) const = default;
  };

  explicit KnownDevices(size_t max_subjects = 1'000'000, size_t max_per_subject = 20,
                        std::string hash_key = "");

  // An empty device id is never known.
  bool Known(std::string_view subject, std::string_view device) const;
  // Adds the device or refreshes its last-seen time. Ignores an empty id.
  void Remember(std::string_view subject, std::string_view device, absl::Time now);
  // Forgets every device of the subject (e.g. after an account recovery).
  void Forget(std::string_view subject);
  // The subject's devices, most recently seen first.
  std::vector<Device> Devices(std::string_view subject) const;
  // Whether the subject has any device, without copying the list.
  bool HasAny(std::string_view subject) const;

  // The hash stored for a device id (32 hex digits).
  std::string DeviceHash(std::string_view device) const;

  // Persistence: the PersistedTable surface (state_rows.h).
  void Import(std::string_view key, std::string_view value) override;
  StateRows TakeDirty() override;
  StateRows Snapshot() const override;
  size_t rejected_rows() const override { return rejected_.load(std::memory_order_relaxed); }
  size_t size() const override { return table_.size(); }
  size_t dropped_deletions() const override { return table_.dropped_deletions(); }
  size_t max_per_subject() const { return max_per_subject_; }

 private:
  using List = std::vector<Device>;  // most recently seen first
  static std::string Encode(const List& devices);

  signals_internal::StateTable<List> table_;
  size_t max_per_subject_;
  std::string hash_key_;
  std::atomic<size_t> rejected_{0};
};

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_DEVICES_H_
