// The authentication front-end's risk signals: what each computes and which
// built-in `context.*` attribute it feeds (docs/language.md, "Built-in
// schema"). Each is an independent component; the /v1/check service drives
// them through one Signal adapter each (signal.h, signal_registry.h).
//
//   ip_list.h        IpList / IpListSet: CIDR lists from text files
//                      -> context.network.listed
//   geoip.h          GeoIpDatabase (MaxMind, libmaxminddb)
//                      City DB          -> context.geo.{country, city, latitude, longitude}
//                      Anonymous-IP DB  -> context.network.{anonymous, hosting, tor}
//                    A corrupt record is an error status: fail closed, never "unknown".
//   travel.h         LastSignIns + CheckTravel: distance from the subject's last sign-in
//                    over the time since     -> context.geo.{impossible_travel, travel_speed_kmh}
//   devices.h        KnownDevices: hashed device ids per subject
//                      -> context.device.known (context.device.id is the request's own)
//   attempts.h       FailedAttempts: per "s:SUBJECT" and "ip:ADDRESS" key, with lockout
//                    and exponential backoff
//                      -> context.attempts.{failed_subject, failed_ip, locked}
//   hour_baseline.h  HourBaselines: a decayed per-subject histogram of sign-in hours
//                      -> context.unusual_hour
//   rate_limiter.h   RateLimiter: token buckets for `limit` declarations
//                      -> limits.NAME.{exceeded, remaining} (via Frame::SetLimitCount)
//
// Common to the stateful tables (LastSignIns, KnownDevices, FailedAttempts,
// HourBaselines, RateLimiter): thread-safe (sharded absl::Mutex; lookups
// share a reader lock), bounded (max entries; the least recently updated
// entry is evicted in O(1)), deterministic (every time is passed in), and
// persisted through one surface, PersistedTable (state_rows.h): Import(key,
// value) at start-up (undecodable rows are ignored and counted in
// rejected_rows()), TakeDirty() for the rows changed since the last call
// (value "" = deleted, including evictions), and Snapshot() for a full
// rewrite. Values are '|'-separated text beginning with
// a format version ("1|...").
#ifndef WARDEN_RUNTIME_AUTH_SIGNALS_RISK_SIGNALS_H_
#define WARDEN_RUNTIME_AUTH_SIGNALS_RISK_SIGNALS_H_

#include "runtime/auth/signals/attempts.h"
#include "runtime/auth/signals/devices.h"
#include "runtime/auth/signals/geoip.h"
#include "runtime/auth/signals/hour_baseline.h"
#include "runtime/auth/signals/ip_list.h"
#include "runtime/auth/signals/rate_limiter.h"
#include "runtime/auth/signals/travel.h"

#endif  // WARDEN_RUNTIME_AUTH_SIGNALS_RISK_SIGNALS_H_
