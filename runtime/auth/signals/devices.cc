#include "runtime/auth/signals/devices.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

using signals_internal::After;

constexpr size_t kHashHexDigits = 32;

bool IsHash(std::string_view text) {
  if (text.size() != kHashHexDigits) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

KnownDevices::KnownDevices(size_t max_subjects, size_t max_per_subject, std::string hash_key)
    : table_(max_subjects),
      max_per_subject_(std::max<size_t>(1, max_per_subject)),
      hash_key_(std::move(hash_key)) {}

std::string KnownDevices::DeviceHash(std::string_view device) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (hash_key_.empty()) {
    SHA256(reinterpret_cast<const unsigned char*>(device.data()), device.size(), digest);
    length = SHA256_DIGEST_LENGTH;
  } else if (HMAC(EVP_sha256(), hash_key_.data(), static_cast<int>(hash_key_.size()),
                  reinterpret_cast<const unsigned char*>(device.data()), device.size(), digest,
                  &length) == nullptr) {
    length = 0;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  if (length * 2 < kHashHexDigits) return hex;  // cannot happen with SHA-256
  hex.reserve(kHashHexDigits);
  for (size_t i = 0; i < kHashHexDigits / 2; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

bool KnownDevices::Known(std::string_view subject, std::string_view device) const {
  if (device.empty()) return false;
  std::string hash = DeviceHash(device);
  if (hash.empty()) return false;
  return table_.Read(subject, [&](const List* devices) {
    if (devices == nullptr) return false;
    return std::any_of(devices->begin(), devices->end(),
                       [&](const Device& d) { return d.hash == hash; });
  });
}

void KnownDevices::Remember(std::string_view subject, std::string_view device, absl::Time now) {
  if (device.empty()) return;
  std::string hash = DeviceHash(device);
  if (hash.empty()) return;
  table_.Update(subject, [&](List& devices, bool) {
    auto it = std::find_if(devices.begin(), devices.end(),
                           [&](const Device& d) { return d.hash == hash; });
    if (it != devices.end()) {
      it->last_seen = std::max(it->last_seen, now);
    } else {
      if (devices.size() >= max_per_subject_) {
        // Evict the least recently seen (not simply the last: times may
        // arrive out of order).
        devices.erase(std::min_element(
            devices.begin(), devices.end(),
            [](const Device& a, const Device& b) { return a.last_seen < b.last_seen; }));
      }
      devices.push_back(Device{std::move(hash), now});
    }
    std::stable_sort(devices.begin(), devices.end(),
                     [](const Device& a, const Device& b) { return a.last_seen > b.last_seen; });
    return After::kKeep;
  });
}

void KnownDevices::Forget(std::string_view subject) { table_.Erase(subject); }

bool KnownDevices::HasAny(std::string_view subject) const {
  return table_.Read(subject,
                     [](const List* devices) { return devices != nullptr && !devices->empty(); });
}

std::vector<KnownDevices::Device> KnownDevices::Devices(std::string_view subject) const {
  return table_.Read(subject, [](const List* devices) { return devices ? *devices : List(); });
}

std::string KnownDevices::Encode(const List& devices) {
  std::string value = "1|";
  for (size_t i = 0; i < devices.size(); ++i) {
    absl::StrAppend(&value, i == 0 ? "" : ",", devices[i].hash, ":",
                    signals_internal::TimeText(devices[i].last_seen));
  }
  return value;
}

void KnownDevices::Import(std::string_view key, std::string_view value) {
  std::vector<std::string_view> fields = signals_internal::SplitFields(value);
  List devices;
  bool ok = !key.empty() && fields.size() == 2 && fields[0] == "1" && !fields[1].empty();
  if (ok) {
    for (std::string_view item : signals_internal::SplitFields(fields[1], ',')) {
      std::vector<std::string_view> parts = signals_internal::SplitFields(item, ':');
      Device device;
      if (parts.size() != 2 || !IsHash(parts[0]) ||
          !signals_internal::ParseTime(parts[1], &device.last_seen)) {
        ok = false;
        break;
      }
      device.hash = std::string(parts[0]);
      bool duplicate = std::any_of(devices.begin(), devices.end(),
                                   [&](const Device& d) { return d.hash == device.hash; });
      if (!duplicate) devices.push_back(std::move(device));
      if (devices.size() > 4 * max_per_subject_ + 64) {  // absurd row: refuse, bounded work
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::stable_sort(devices.begin(), devices.end(),
                   [](const Device& a, const Device& b) { return a.last_seen > b.last_seen; });
  if (devices.size() > max_per_subject_) devices.resize(max_per_subject_);
  table_.Put(key, std::move(devices));
}

StateRows KnownDevices::TakeDirty() { return table_.TakeDirty(&KnownDevices::Encode); }
StateRows KnownDevices::Snapshot() const { return table_.Snapshot(&KnownDevices::Encode); }

}  // namespace warden::auth
