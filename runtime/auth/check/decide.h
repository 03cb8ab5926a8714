// Stage 5 of /v1/check: decide. Decodes the decision request into the
// session's frame, reads the rate-limit buckets of the program's `limit`
// declarations into it (limits.NAME.*), and runs the policies.
#ifndef WARDEN_RUNTIME_AUTH_CHECK_DECIDE_H_
#define WARDEN_RUNTIME_AUTH_CHECK_DECIDE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "runtime/auth/signals/rate_limiter.h"
#include "warden/engine.h"

namespace warden::auth {

// False when the request does not decode (json.errors() says why; the
// decision is then a bare deny). `limit_keys` gets each limit's bucket key,
// by limit index, for recording.
bool DecideCheck(const Engine& engine, JsonSession& json, const RateLimiter& limiter,
                 std::string_view request, absl::Time now, std::vector<std::string>* limit_keys,
                 Decision* decision);

}  // namespace warden::auth

#endif  // WARDEN_RUNTIME_AUTH_CHECK_DECIDE_H_
