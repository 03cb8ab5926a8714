#include "runtime/auth/signals/geoip.h"

#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "runtime/values/ip.h"

namespace warden::auth {

struct GeoIpDatabase::Handle {
  MMDB_s mmdb;
  bool open = false;  // MMDB_open frees its own allocations when it fails
  ~Handle() {
    if (open) MMDB_close(&mmdb);
  }
};

namespace {

bool IsMappedV4(const bc::IpNet& ip) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return ip.v6 && std::memcmp(ip.bytes, kPrefix, 12) == 0;
}

// One record of the database, with the context error messages need.
class Record {
 public:
  Record(const std::string& path, const bc::IpNet& ip, MMDB_entry_s entry)
      : path_(path), ip_(ip), entry_(entry) {}

  absl::Status Error(const std::string& what) const {
    return absl::DataLossError(
        absl::StrCat("GeoIP database ", path_, ": record for ", values::IpString(ip_), ": ", what));
  }

  // The value at `path` (a null-terminated key list), or has_data == false
  // when the record does not have it. Any other libmaxminddb error (corrupt
  // data, bad pointers) is an error.
  absl::StatusOr<MMDB_entry_data_s> Get(const char* const* path) const {
    MMDB_entry_data_s data;
    std::memset(&data, 0, sizeof data);
    MMDB_entry_s entry = entry_;
    int status = MMDB_aget_value(&entry, &data, path);
    if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
      data.has_data = false;
      return data;
    }
    if (status != MMDB_SUCCESS) {
      return Error(absl::StrCat(PathText(path), ": ", MMDB_strerror(status)));
    }
    return data;
  }

  absl::StatusOr<std::string> String(const char* const* path) const {
    absl::StatusOr<MMDB_entry_data_s> data = Get(path);
    if (!data.ok()) return data.status();
    if (!data->has_data) return std::string();
    if (data->type != MMDB_DATA_TYPE_UTF8_STRING) return TypeError(path, "a string");
    return std::string(data->utf8_string, data->data_size);
  }

  absl::StatusOr<std::optional<double>> Double(const char* const* path) const {
    absl::StatusOr<MMDB_entry_data_s> data = Get(path);
    if (!data.ok()) return data.status();
    if (!data->has_data) return std::optional<double>();
    double value;
    if (data->type == MMDB_DATA_TYPE_DOUBLE) {
      value = data->double_value;
    } else if (data->type == MMDB_DATA_TYPE_FLOAT) {
      value = data->float_value;
    } else {
      return TypeError(path, "a double");
    }
    if (!std::isfinite(value)) return Error(absl::StrCat(PathText(path), ": not a finite number"));
    return std::optional<double>(value);
  }

  absl::StatusOr<std::optional<int64_t>> Unsigned(const char* const* path) const {
    absl::StatusOr<MMDB_entry_data_s> data = Get(path);
    if (!data.ok()) return data.status();
    if (!data->has_data) return std::optional<int64_t>();
    switch (data->type) {
      case MMDB_DATA_TYPE_UINT16:
        return std::optional<int64_t>(data->uint16);
      case MMDB_DATA_TYPE_UINT32:
        return std::optional<int64_t>(data->uint32);
      case MMDB_DATA_TYPE_INT32:
        return std::optional<int64_t>(data->int32);
      default:
        return TypeError(path, "an integer");
    }
  }

  absl::StatusOr<bool> Bool(const char* const* path) const {
    absl::StatusOr<MMDB_entry_data_s> data = Get(path);
    if (!data.ok()) return data.status();
    if (!data->has_data) return false;
    if (data->type != MMDB_DATA_TYPE_BOOLEAN) return TypeError(path, "a boolean");
    return data->boolean;
  }

 private:
  static std::string PathText(const char* const* path) {
    std::string text;
    for (; *path != nullptr; ++path) absl::StrAppend(&text, text.empty() ? "" : ".", *path);
    return text;
  }
  absl::Status TypeError(const char* const* path, const char* expected) const {
    return Error(absl::StrCat(PathText(path), " is not ", expected));
  }

  const std::string& path_;
  const bc::IpNet& ip_;
  MMDB_entry_s entry_;
};

}  // namespace

GeoIpDatabase::GeoIpDatabase(std::string path, std::unique_ptr<Handle> handle)
    : path_(std::move(path)), handle_(std::move(handle)) {}

GeoIpDatabase::~GeoIpDatabase() = default;

namespace {

// Closes a descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A private, sealed copy of `path` in an anonymous memory file, so that what
// libmaxminddb maps is ours: an operator truncating or rewriting the file in
// place (a copy over it, `> file`) would otherwise turn the pages under our
// lookups into SIGBUS or into other bytes. Returns the copy's descriptor.
absl::StatusOr<int> PrivateCopy(const std::string& path, size_t max_bytes) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("GeoIP database ", path, ": cannot open: ", std::strerror(errno)));
  }
  Fd copy{static_cast<int>(::memfd_create("warden-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING))};
  if (copy.fd < 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "GeoIP database ", path, ": cannot make a private copy: ", std::strerror(errno)));
  }
  std::vector<char> buffer(1 << 16);
  size_t total = 0;
  for (;;) {
    const ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::NotFoundError(
          absl::StrCat("GeoIP database ", path, ": cannot read: ", std::strerror(errno)));
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
    if (total > max_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "GeoIP database ", path, ": larger than the ", max_bytes, " bytes a database may have"));
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(copy.fd, buffer.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "GeoIP database ", path, ": cannot make a private copy: ", std::strerror(errno)));
      }
      done += w;
    }
  }
  // Sealed: not even this process can change the copy's size or bytes.
  (void)::fcntl(copy.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  const int fd = copy.fd;
  copy.fd = -1;
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GeoIpDatabase>> GeoIpDatabase::Open(const std::string& path) {
  absl::StatusOr<int> copy = PrivateCopy(path, kMaxGeoIpBytes);
  if (!copy.ok()) return copy.status();
  Fd fd{*copy};
  // libmaxminddb opens a path: the copy's, which maps the memory file (the
  // mapping keeps it alive once fd is closed).
  const std::string copy_path = absl::StrCat("/proc/self/fd/", fd.fd);
  auto handle = std::make_unique<Handle>();
  std::memset(&handle->mmdb, 0, sizeof handle->mmdb);
  errno = 0;
  int status = MMDB_open(copy_path.c_str(), MMDB_MODE_MMAP, &handle->mmdb);
  if (status != MMDB_SUCCESS) {
    int error = errno;
    std::string detail = MMDB_strerror(status);
    if (status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) {
      if (error != 0) absl::StrAppend(&detail, ": ", std::strerror(error));
      return absl::NotFoundError(absl::StrCat("GeoIP database ", path, ": ", detail));
    }
    return absl::DataLossError(
        absl::StrCat("GeoIP database ", path, ": not a valid MaxMind DB: ", detail));
  }
  handle->open = true;
  return std::unique_ptr<GeoIpDatabase>(new GeoIpDatabase(path, std::move(handle)));
}

std::string GeoIpDatabase::database_type() const {
  const char* type = handle_->mmdb.metadata.database_type;
  return type == nullptr ? std::string() : std::string(type);
}

namespace {

// Looks the address up; nullopt entry when the database has no record.
absl::StatusOr<std::optional<MMDB_entry_s>> Find(const MMDB_s& mmdb, const std::string& path,
                                                 const bc::IpNet& ip) {
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof storage);
  bool v4 = !ip.v6 || IsMappedV4(ip);
  if (v4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ip.v6 ? ip.bytes + 12 : ip.bytes, 4);
  } else {
    if (mmdb.metadata.ip_version == 4) return std::optional<MMDB_entry_s>();
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ip.bytes, 16);
  }
  int error = MMDB_SUCCESS;
  // libmaxminddb takes a non-const MMDB_s but only reads it.
  MMDB_lookup_result_s result = MMDB_lookup_sockaddr(
      const_cast<MMDB_s*>(&mmdb), reinterpret_cast<const sockaddr*>(&storage), &error);
  if (error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) return std::optional<MMDB_entry_s>();
  if (error != MMDB_SUCCESS) {
    return absl::DataLossError(absl::StrCat("GeoIP database ", path, ": lookup of ",
                                            values::IpString(ip), ": ", MMDB_strerror(error)));
  }
  if (!result.found_entry) return std::optional<MMDB_entry_s>();
  return std::optional<MMDB_entry_s>(result.entry);
}

#define WARDEN_ASSIGN(lhs, expr)                          \
  do {                                                    \
    auto warden_value = (expr);                           \
    if (!warden_value.ok()) return warden_value.status(); \
    lhs = *std::move(warden_value);                       \
  } while (false)

}  // namespace

absl::StatusOr<std::optional<GeoLocation>> GeoIpDatabase::LookupCity(const bc::IpNet& ip) const {
  absl::StatusOr<std::optional<MMDB_entry_s>> entry = Find(handle_->mmdb, path_, ip);
  if (!entry.ok()) return entry.status();
  if (!entry->has_value()) return std::optional<GeoLocation>();
  Record record(path_, ip, **entry);
  static const char* const kCountry[] = {"country", "iso_code", nullptr};
  static const char* const kCity[] = {"city", "names", "en", nullptr};
  static const char* const kLatitude[] = {"location", "latitude", nullptr};
  static const char* const kLongitude[] = {"location", "longitude", nullptr};
  static const char* const kRadius[] = {"location", "accuracy_radius", nullptr};
  static const char* const kZone[] = {"location", "time_zone", nullptr};
  GeoLocation location;
  WARDEN_ASSIGN(location.country, record.String(kCountry));
  WARDEN_ASSIGN(location.city, record.String(kCity));
  WARDEN_ASSIGN(location.latitude, record.Double(kLatitude));
  WARDEN_ASSIGN(location.longitude, record.Double(kLongitude));
  WARDEN_ASSIGN(location.accuracy_radius_km, record.Unsigned(kRadius));
  WARDEN_ASSIGN(location.time_zone, record.String(kZone));
  if (location.latitude && std::fabs(*location.latitude) > 90)
    return record.Error("location.latitude is outside [-90, 90]");
  if (location.longitude && std::fabs(*location.longitude) > 180)
    return record.Error("location.longitude is outside [-180, 180]");
  // Coordinates only make sense as a pair.
  if (location.latitude.has_value() != location.longitude.has_value()) {
    location.latitude.reset();
    location.longitude.reset();
  }
  return std::optional<GeoLocation>(std::move(location));
}

absl::StatusOr<std::optional<AnonymousIp>> GeoIpDatabase::LookupAnonymous(
    const bc::IpNet& ip) const {
  absl::StatusOr<std::optional<MMDB_entry_s>> entry = Find(handle_->mmdb, path_, ip);
  if (!entry.ok()) return entry.status();
  if (!entry->has_value()) return std::optional<AnonymousIp>();
  Record record(path_, ip, **entry);
  static const char* const kAnonymous[] = {"is_anonymous", nullptr};
  static const char* const kVpn[] = {"is_anonymous_vpn", nullptr};
  static const char* const kHosting[] = {"is_hosting_provider", nullptr};
  static const char* const kTor[] = {"is_tor_exit_node", nullptr};
  static const char* const kResidential[] = {"is_residential_proxy", nullptr};
  static const char* const kPublic[] = {"is_public_proxy", nullptr};
  AnonymousIp flags;
  WARDEN_ASSIGN(flags.anonymous, record.Bool(kAnonymous));
  WARDEN_ASSIGN(flags.vpn, record.Bool(kVpn));
  WARDEN_ASSIGN(flags.hosting, record.Bool(kHosting));
  WARDEN_ASSIGN(flags.tor, record.Bool(kTor));
  WARDEN_ASSIGN(flags.residential_proxy, record.Bool(kResidential));
  WARDEN_ASSIGN(flags.public_proxy, record.Bool(kPublic));
  return std::optional<AnonymousIp>(flags);
}

#undef WARDEN_ASSIGN

}  // namespace warden::auth
