/*
 * Warden's stable C API (libwarden.so): load a compiled policy bundle and
 * decide JSON requests. C99; every function is safe to call from C++.
 *
 *   warden_engine* engine = NULL;
 *   char* error = NULL;
 *   if (warden_engine_load_file("payments.wdnb", "{\"sanctioned_countries\":[]}",
 *                               &engine, &error) != WARDEN_OK) { ... error ...; }
 *   char* decision = NULL;
 *   warden_engine_decide(engine, request, strlen(request), &decision, NULL);
 *   ... decision is {"decision":"permit",...} ...
 *   warden_string_free(decision);
 *   warden_engine_free(engine);
 *
 * Nothing here throws or aborts on bad input: every failure is a status code.
 * Strings returned through char** parameters are owned by the caller and
 * freed with warden_string_free; const char* results are owned by the library.
 * See docs/bindings.md.
 */
#ifndef WARDEN_C_API_H_
#define WARDEN_C_API_H_

#include <stddef.h>

#if defined(__GNUC__)
#define WARDEN_API __attribute__((visibility("default")))
#else
#define WARDEN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded, verified, immutable policy bundle. Opaque. */
typedef struct warden_engine warden_engine;

/* Status codes. The values are stable; new codes may be added. */
typedef enum warden_status {
  WARDEN_OK = 0,
  WARDEN_INVALID_ARGUMENT = 1, /* a required pointer argument is NULL */
  WARDEN_NOT_FOUND = 2,        /* the bundle file cannot be opened or read */
  WARDEN_BAD_BUNDLE = 3,       /* not a valid bundle: format, hash, verification, limits */
  WARDEN_BAD_REQUEST = 4,      /* the request cannot be decided; the decision (deny) is returned */
  WARDEN_INTERNAL = 5,         /* out of memory, or another unexpected failure */
  WARDEN_BAD_DATA = 6          /* data_json is not a JSON object, or a data value is
                                  missing, unknown or of the wrong type */
} warden_status;

/*
 * Loads and verifies the bundle at `bundle_path` (written by
 * `warden compile -o`). `data_json`, which may be NULL, is a NUL-terminated
 * JSON object giving a value for each `data` declaration of the policies:
 * booleans, integers, decimals (numbers, or strings like "10.50"), strings
 * (also for enum members, IPs/CIDRs, durations like "15m", RFC 3339
 * timestamps) and arrays for sets. A declared value that is missing fails
 * the load (WARDEN_BAD_DATA).
 *
 * On success *out is the engine and *error_message (if error_message is not
 * NULL) is set to NULL. On failure *out is NULL and *error_message, if
 * requested, is a message the caller frees with warden_string_free (or NULL
 * when there is no memory for one).
 */
WARDEN_API warden_status warden_engine_load_file(const char* bundle_path, const char* data_json,
                                                 warden_engine** out, char** error_message);

/* As warden_engine_load_file, from the `size` bytes of a bundle at `bytes`
 * (copied; the caller may free them on return). */
WARDEN_API warden_status warden_engine_load_bundle(const void* bytes, size_t size,
                                                   const char* data_json, warden_engine** out,
                                                   char** error_message);

/*
 * Decides the JSON request of `size` bytes at `request_json` (no NUL needed).
 * On WARDEN_OK and WARDEN_BAD_REQUEST, *decision_json is a NUL-terminated
 * JSON object the caller frees with warden_string_free, and *decision_size
 * (if decision_size is not NULL) its length:
 *   WARDEN_OK:          {"decision":"permit"|"deny"|"step_up"|"not_applicable",
 *                        "challenge":…,"rules":[…],"reasons":[…],"obligations":[…],
 *                        "advice":[…],"errors":[…],"risk":{…},"limits":[…]}
 *   WARDEN_BAD_REQUEST: {"error":{"code":"bad_request","path":…,"message":…},
 *                        "decision":"deny",…the same keys…}
 * On any other status *decision_json is NULL (when decision_json is not
 * NULL) and *decision_size 0.
 *
 * Thread-safe: any number of threads may decide on one engine at the same
 * time. Per-thread decoding state is pooled in the engine, so steady-state
 * decisions reuse warm sessions.
 */
WARDEN_API warden_status warden_engine_decide(const warden_engine* engine, const char* request_json,
                                              size_t size, char** decision_json,
                                              size_t* decision_size);

/* The SHA-256 of the bundle's content, in hex; owned by the engine, valid
 * until warden_engine_free. NULL when engine is NULL. */
WARDEN_API const char* warden_engine_bundle_hash(const warden_engine* engine);

/* Frees the engine (NULL is a no-op). No decision may be running on it. */
WARDEN_API void warden_engine_free(warden_engine* engine);

/* Frees a string returned by this library (NULL is a no-op). */
WARDEN_API void warden_string_free(char* string);

/* "WARDEN_OK", "WARDEN_BAD_REQUEST", …; "WARDEN_UNKNOWN_STATUS" for any
 * other value. Static storage. */
WARDEN_API const char* warden_status_name(warden_status status);

/* The library's version, "MAJOR.MINOR.PATCH". Static storage. */
WARDEN_API const char* warden_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WARDEN_C_API_H_ */
