// `data` values from a JSON object ({"name": value, …}), as `warden eval
// --data`, `warden serve` and the bindings accept them: booleans, integers,
// strings, other numbers as their text (decimals: "10.50"), arrays as lists,
// objects as records, null as an absent optional field.
#ifndef WARDEN_RUNTIME_DATA_JSON_H_
#define WARDEN_RUNTIME_DATA_JSON_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "warden/engine.h"

namespace warden {

absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> ParseDataJson(std::string_view text);

}  // namespace warden

#endif  // WARDEN_RUNTIME_DATA_JSON_H_
