// What identifies a file's content without reading it (device, inode, size,
// modification time): a reload compares stamps taken before each read, so a
// write that races the read changes the stamp again and is picked up next
// time. Used for JWKS files, IP lists and GeoIP databases.
#ifndef WARDEN_RUNTIME_AUTH_FILE_STAMP_H_
#define WARDEN_RUNTIME_AUTH_FILE_STAMP_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace warden::auth {

struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

inline FileStamp Stamp(const std::string& path) {
  struct stat st {};
  FileStamp stamp;
  if (::stat(path.c_str(), &st) != 0) return stamp;
  stamp.exists = true;
  stamp.dev = st.st_dev;
  stamp.ino = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return stamp;
}

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_FILE_STAMP_H_
