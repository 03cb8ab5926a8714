// The unit the state store persists for the in-memory signal tables (known
// devices, last sign-ins, failed attempts, hour baselines, rate-limit
// buckets): a key and an opaque value each table encodes itself.
#ifndef WARDEN_RUNTIME_AUTH_STATE_ROWS_H_
#define WARDEN_RUNTIME_AUTH_STATE_ROWS_H_

#include <string>
#include <vector>

namespace warden::auth {

struct StateRow {
  std::string key;
  std::string value;  // empty: the row is deleted
};

using StateRows = std::vector<StateRow>;

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_STATE_ROWS_H_
