#include "runtime/auth/signals/network_files.h"

namespace warden::auth {

bool NetworkFiles::Changed(size_t index, const FileStamp& stamp, bool initial) {
  if (initial) return true;
  if (stamp == stamps_[index]) {  // unchanged, or the loaded version is back
    refused_[index] = FileStamp();
    refusals_[index] = absl::OkStatus();
    return false;
  }
  return stamp != refused_[index];
}

void NetworkFiles::Report(UpdateSource source, const std::string& path, size_t index,
                          const FileStamp& stamp, const absl::Status& result) {
  if (result.ok()) {
    stamps_[index] = stamp;
    refused_[index] = FileStamp();
    refusals_[index] = absl::OkStatus();
  } else {
    refused_[index] = stamp;
    refusals_[index] = result;
  }
  if (reports_ == nullptr) return;
  if (result.ok()) {
    reports_->Loaded(source, path, absl::Now());
  } else {
    reports_->Refused(source, path, result, absl::Now());
  }
}

absl::Status NetworkFiles::Reload(bool initial) {
  std::shared_ptr<const NetworkSnapshot> current = Current();
  auto next = std::make_shared<NetworkSnapshot>();
  if (current != nullptr) *next = *current;
  const size_t files = config_.ip_lists.size() + 2;
  stamps_.resize(files);
  refused_.resize(files);
  refusals_.resize(files);
  next->ip_lists.resize(config_.ip_lists.size());
  bool changed = initial;
  for (size_t k = 0; k < config_.ip_lists.size(); ++k) {
    const IpListSettings& settings = config_.ip_lists[k];
    FileStamp stamp = Stamp(settings.file);
    if (!Changed(k, stamp, initial)) continue;
    absl::StatusOr<IpList> list = IpList::LoadFile(settings.file);
    Report(UpdateSource::kIpList, settings.file, k, stamp, list.status());
    if (!list.ok()) continue;
    next->ip_lists[k] = {settings.name, std::make_shared<const IpList>(*std::move(list))};
    changed = true;
  }
  auto database = [&](const std::string& path, size_t index,
                      std::shared_ptr<const GeoIpDatabase>* slot) {
    if (path.empty()) return;
    FileStamp stamp = Stamp(path);
    if (!Changed(index, stamp, initial)) return;
    absl::StatusOr<std::unique_ptr<GeoIpDatabase>> db = GeoIpDatabase::Open(path);
    Report(UpdateSource::kGeoip, path, index, stamp, db.status());
    if (!db.ok()) return;
    *slot = *std::move(db);
    changed = true;
  };
  database(config_.geoip_city, config_.ip_lists.size(), &next->geo_city);
  database(config_.geoip_anonymous, config_.ip_lists.size() + 1, &next->geo_anonymous);
  absl::Status first_error;
  for (const absl::Status& refusal : refusals_) {
    if (first_error.ok()) first_error = refusal;
  }
  if (initial && !first_error.ok()) return first_error;
  if (changed) {
    absl::MutexLock lock(&mutex_);
    current_ = std::move(next);
  }
  return first_error;
}

}  // namespace warden::auth
