#include "runtime/auth/check/decide.h"

#include "runtime/frame.h"
#include "runtime/limit_key.h"
#include "runtime/request_decoder.h"

namespace warden::auth {

bool DecideCheck(const Engine& engine, JsonSession& json, const RateLimiter& limiter,
                 std::string_view request, absl::Time now, std::vector<std::string>* limit_keys,
                 Decision* decision) {
  rt::Frame& frame = json.frame();
  if (!json.decoder().Decode(request, &frame)) {
    decision->Clear();
    decision->outcome = rt::Outcome::kDeny;
    return false;
  }
  const bc::Program& program = engine.program();
  if (limit_keys->size() < program.limits.size()) limit_keys->resize(program.limits.size());
  for (uint32_t limit = 0; limit < program.limits.size(); ++limit) {
    std::string& key = (*limit_keys)[limit];
    rt::AppendLimitKey(program, limit, frame, &key);
    const bc::Limit& declared = program.limits[limit];
    const RateLimiter::Peek peek =
        limiter.Look(declared.count, absl::Milliseconds(declared.window_ms), key, now);
    frame.SetLimitCount(limit, peek.counted);
  }
  engine.Decide(frame, decision);
  return true;
}

}  // namespace warden::auth
