#include "runtime/auth/signals/network_files.h"

namespace warden::auth {

absl::Status NetworkFiles::Reload(bool initial) {
  std::shared_ptr<const NetworkSnapshot> current = Current();
  auto next = std::make_shared<NetworkSnapshot>();
  if (current != nullptr) *next = *current;
  stamps_.resize(config_.ip_lists.size() + 2);
  next->ip_lists.resize(config_.ip_lists.size());
  bool changed = initial;
  absl::Status first_error;
  auto note = [&](const absl::Status& status) {
    if (first_error.ok()) first_error = status;
  };
  for (size_t k = 0; k < config_.ip_lists.size(); ++k) {
    const IpListSettings& settings = config_.ip_lists[k];
    FileStamp stamp = Stamp(settings.file);
    if (!initial && stamp == stamps_[k]) continue;
    absl::StatusOr<IpList> list = IpList::LoadFile(settings.file);
    if (!list.ok()) {
      note(list.status());
      continue;
    }
    next->ip_lists[k] = {settings.name, std::make_shared<const IpList>(*std::move(list))};
    stamps_[k] = stamp;
    changed = true;
  }
  auto database = [&](const std::string& path, size_t index,
                      std::shared_ptr<const GeoIpDatabase>* slot) {
    if (path.empty()) return;
    FileStamp stamp = Stamp(path);
    if (!initial && stamp == stamps_[index]) return;
    absl::StatusOr<std::unique_ptr<GeoIpDatabase>> db = GeoIpDatabase::Open(path);
    if (!db.ok()) {
      note(db.status());
      return;
    }
    *slot = *std::move(db);
    stamps_[index] = stamp;
    changed = true;
  };
  database(config_.geoip_city, config_.ip_lists.size(), &next->geo_city);
  database(config_.geoip_anonymous, config_.ip_lists.size() + 1, &next->geo_anonymous);
  if (initial && !first_error.ok()) return first_error;
  if (changed) {
    absl::MutexLock lock(&mutex_);
    current_ = std::move(next);
  }
  return first_error;
}

}  // namespace warden::auth
