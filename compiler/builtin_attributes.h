// The built-in schema attributes (docs/language.md, "Built-in schema"): what
// every package has without declaring it, defined once. Used by
//   - the checker, which declares them (compiler/internal/builtin_schema.cc);
//   - the authentication front-end, whose context writer can only write a
//     built-in `context` member (ContextKey, runtime/auth/signals/signal.h)
//     and which refuses a /v1/check that sends a computed one;
//   - tests/docs_test.cc, which fails when docs/language.md omits one.
// Header-only: the front-end does not link the compiler.
//
// X(RECORD, NAME, TYPE, OPTIONAL, SOURCE)
//   RECORD    the record holding it, as a token: subject_auth is subject.auth.
//             ORDER RECORD: a record's fields are listed together, before the
//             field that holds the record (children first).
//   TYPE      kBool kInt kDecimal kString kDuration kTimestamp kIp, kStrings
//             (set<string>), kRecord (the record RECORD.NAME), kAuthKind (the
//             enum none, token, api_key)
//   OPTIONAL  kOptional or kRequired
//   SOURCE    kCredential (from the verified credential), kCaller (a check
//             sends it), kComputed (Warden computes it: a check may not send
//             it; for `context` members)
#ifndef WARDEN_COMPILER_BUILTIN_ATTRIBUTES_H_
#define WARDEN_COMPILER_BUILTIN_ATTRIBUTES_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#define WARDEN_BUILTIN_ATTRIBUTES(X)                              \
  X(subject_auth, mfa, kBool, kRequired, kCredential)             \
  X(subject_auth, methods, kStrings, kRequired, kCredential)      \
  X(subject_auth, acr, kString, kRequired, kCredential)           \
  X(subject_auth, auth_age, kDuration, kRequired, kCredential)    \
  X(subject_auth, token_age, kDuration, kRequired, kCredential)   \
  X(subject_auth, kind, kAuthKind, kRequired, kCredential)        \
  X(subject_auth, key_id, kString, kOptional, kCredential)        \
  X(subject, id, kString, kRequired, kCredential)                 \
  X(subject, roles, kStrings, kRequired, kCredential)             \
  X(subject, tenant, kString, kOptional, kCredential)             \
  X(subject, auth, kRecord, kRequired, kCredential)               \
  X(context_geo, country, kString, kOptional, kComputed)          \
  X(context_geo, city, kString, kOptional, kComputed)             \
  X(context_geo, latitude, kDecimal, kOptional, kComputed)        \
  X(context_geo, longitude, kDecimal, kOptional, kComputed)       \
  X(context_geo, impossible_travel, kBool, kRequired, kComputed)  \
  X(context_geo, travel_speed_kmh, kInt, kRequired, kComputed)    \
  X(context_device, id, kString, kOptional, kCaller)              \
  X(context_device, known, kBool, kRequired, kComputed)           \
  X(context_network, anonymous, kBool, kRequired, kComputed)      \
  X(context_network, hosting, kBool, kRequired, kComputed)        \
  X(context_network, tor, kBool, kRequired, kComputed)            \
  X(context_network, listed, kBool, kRequired, kComputed)         \
  X(context_attempts, failed_subject, kInt, kRequired, kComputed) \
  X(context_attempts, failed_ip, kInt, kRequired, kComputed)      \
  X(context_attempts, locked, kBool, kRequired, kComputed)        \
  X(context, time, kTimestamp, kRequired, kComputed)              \
  X(context, ip, kIp, kOptional, kCaller)                         \
  X(context, geo, kRecord, kRequired, kComputed)                  \
  X(context, device, kRecord, kRequired, kCaller)                 \
  X(context, network, kRecord, kRequired, kComputed)              \
  X(context, attempts, kRecord, kRequired, kComputed)             \
  X(context, unusual_hour, kBool, kRequired, kComputed)           \
  X(context, known_network, kBool, kRequired, kComputed)

// The records' dotted names.
#define WARDEN_BUILTIN_RECORD_subject_auth "subject.auth"
#define WARDEN_BUILTIN_RECORD_subject "subject"
#define WARDEN_BUILTIN_RECORD_context_geo "context.geo"
#define WARDEN_BUILTIN_RECORD_context_device "context.device"
#define WARDEN_BUILTIN_RECORD_context_network "context.network"
#define WARDEN_BUILTIN_RECORD_context_attempts "context.attempts"
#define WARDEN_BUILTIN_RECORD_context "context"

namespace warden {

enum class BuiltinType : uint8_t {
  kBool,
  kInt,
  kDecimal,
  kString,
  kDuration,
  kTimestamp,
  kIp,
  kStrings,
  kRecord,
  kAuthKind
};
enum class BuiltinSource : uint8_t { kCredential, kCaller, kComputed };

struct BuiltinAttribute {
  std::string_view record;  // "context.geo"
  std::string_view name;    // "country"
  BuiltinType type;
  bool optional;
  BuiltinSource source;
};

inline constexpr BuiltinAttribute kBuiltinAttributes[] = {
#define WARDEN_BUILTIN_ATTRIBUTE_INFO(record, name, type, optional, source) \
  {WARDEN_BUILTIN_RECORD_##record, #name, BuiltinType::type,                \
   std::string_view(#optional) == "kOptional", BuiltinSource::source},
    WARDEN_BUILTIN_ATTRIBUTES(WARDEN_BUILTIN_ATTRIBUTE_INFO)
#undef WARDEN_BUILTIN_ATTRIBUTE_INFO
};

// The top-level members of `context`, as the front-end writes them.
// Generated from the entries whose RECORD is `context`.
#define WARDEN_CONTEXT_KEY_subject_auth(name)
#define WARDEN_CONTEXT_KEY_subject(name)
#define WARDEN_CONTEXT_KEY_context_geo(name)
#define WARDEN_CONTEXT_KEY_context_device(name)
#define WARDEN_CONTEXT_KEY_context_network(name)
#define WARDEN_CONTEXT_KEY_context_attempts(name)
#define WARDEN_CONTEXT_KEY_context(name) name,
#define WARDEN_CONTEXT_KEY(record, name, type, optional, source) WARDEN_CONTEXT_KEY_##record(name)
enum class ContextKey : uint8_t { WARDEN_BUILTIN_ATTRIBUTES(WARDEN_CONTEXT_KEY) };
#undef WARDEN_CONTEXT_KEY
#undef WARDEN_CONTEXT_KEY_context
#define WARDEN_CONTEXT_KEY_context(name) #name,
#define WARDEN_CONTEXT_KEY(record, name, type, optional, source) WARDEN_CONTEXT_KEY_##record(name)
inline constexpr std::string_view kContextKeyNames[] = {
    WARDEN_BUILTIN_ATTRIBUTES(WARDEN_CONTEXT_KEY)};
#undef WARDEN_CONTEXT_KEY
#undef WARDEN_CONTEXT_KEY_context
#undef WARDEN_CONTEXT_KEY_subject_auth
#undef WARDEN_CONTEXT_KEY_subject
#undef WARDEN_CONTEXT_KEY_context_geo
#undef WARDEN_CONTEXT_KEY_context_device
#undef WARDEN_CONTEXT_KEY_context_network
#undef WARDEN_CONTEXT_KEY_context_attempts

inline constexpr std::string_view ContextKeyName(ContextKey key) {
  return kContextKeyNames[static_cast<size_t>(key)];
}

}  // namespace warden

#endif  // WARDEN_COMPILER_BUILTIN_ATTRIBUTES_H_
