#include "runtime/auth/signals/attempts.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace warden::auth {
namespace {

using signals_internal::After;

constexpr int kMaxFailures = 1'000'000;

}  // namespace

FailedAttempts::FailedAttempts(AttemptPolicy policy, size_t max_entries)
    : policy_(policy), table_(max_entries) {
  policy_.lockout_after = std::max(1, policy_.lockout_after);
  policy_.window = std::max(policy_.window, absl::ZeroDuration());
  policy_.base_lockout = std::max(policy_.base_lockout, absl::ZeroDuration());
  policy_.max_lockout = std::max(policy_.max_lockout, absl::ZeroDuration());
}

absl::Duration FailedAttempts::LockoutFor(int failures) const {
  if (failures < policy_.lockout_after) return absl::ZeroDuration();
  int exponent = failures - policy_.lockout_after;
  absl::Duration lockout = policy_.base_lockout;
  // Doubling stops at the cap, so there is no overflow however many failures.
  for (int i = 0; i < exponent && lockout < policy_.max_lockout; ++i) lockout *= 2;
  return std::min(lockout, policy_.max_lockout);
}

bool FailedAttempts::Expired(const Streak& streak, absl::Time now) const {
  absl::Time last_activity = std::max(streak.last_failure, streak.locked_until);
  return now - last_activity >= policy_.window && now >= streak.locked_until;
}

AttemptState FailedAttempts::StateOf(const Streak& streak, absl::Time now) const {
  AttemptState state;
  if (Expired(streak, now)) return state;
  state.failures = streak.failures;
  state.locked_until = streak.locked_until;
  state.locked = now < streak.locked_until;
  return state;
}

AttemptState FailedAttempts::Get(std::string_view key, absl::Time now) const {
  return table_.Read(key, [&](const Streak* streak) {
    return streak == nullptr ? AttemptState() : StateOf(*streak, now);
  });
}

AttemptState FailedAttempts::RecordFailure(std::string_view key, absl::Time now) {
  AttemptState state;
  table_.Update(key, [&](Streak& streak, bool existed) {
    if (!existed || Expired(streak, now)) streak = Streak();
    streak.failures = std::min(streak.failures + 1, kMaxFailures);
    streak.last_failure = std::max(streak.last_failure, now);
    absl::Duration lockout = LockoutFor(streak.failures);
    if (lockout > absl::ZeroDuration())
      streak.locked_until = std::max(streak.locked_until, now + lockout);
    state = StateOf(streak, now);
    return After::kKeep;
  });
  return state;
}

void FailedAttempts::RecordSuccess(std::string_view key, absl::Time) { table_.Erase(key); }

size_t FailedAttempts::Sweep(absl::Time now) {
  return table_.EraseIf([&](const Streak& streak) { return Expired(streak, now); });
}

std::string FailedAttempts::Encode(const Streak& streak) {
  return absl::StrCat("1|", streak.failures, "|", signals_internal::TimeText(streak.last_failure),
                      "|", signals_internal::TimeText(streak.locked_until));
}

void FailedAttempts::Import(std::string_view key, std::string_view value) {
  std::vector<std::string_view> fields = signals_internal::SplitFields(value);
  Streak streak;
  int64_t failures = 0;
  if (key.empty() || fields.size() != 4 || fields[0] != "1" ||
      !signals_internal::ParseInt64(fields[1], &failures) || failures < 1 ||
      failures > kMaxFailures || !signals_internal::ParseTime(fields[2], &streak.last_failure) ||
      !signals_internal::ParseTime(fields[3], &streak.locked_until)) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  streak.failures = static_cast<int>(failures);
  // A row written under a longer max_lockout cannot lock longer than the
  // current policy allows.
  streak.locked_until = std::min(streak.locked_until, streak.last_failure + policy_.max_lockout);
  table_.Put(key, streak);
}

StateRows FailedAttempts::TakeDirty() { return table_.TakeDirty(&FailedAttempts::Encode); }
StateRows FailedAttempts::Snapshot() const { return table_.Snapshot(&FailedAttempts::Encode); }

}  // namespace warden::auth
