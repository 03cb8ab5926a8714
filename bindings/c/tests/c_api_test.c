/* Tests of the C API, in plain C11 against include/warden.h only, linked
 * with libwarden.so. Usage: c_api_test PAYMENTS_BUNDLE (examples/payments,
 * compiled by run_c_api_test.sh). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#define CHECK_STATUS(expr, expected)                                             \
  do {                                                                           \
    warden_status got_ = (expr);                                                 \
    if (got_ != (expected)) {                                                    \
      fprintf(stderr, "%s:%d: %s: got %s, want %s\n", __FILE__, __LINE__, #expr, \
              warden_status_name(got_), warden_status_name(expected));           \
      ++failures;                                                                \
    }                                                                            \
  } while (0)

static const char* const kData =
    "{\"sanctioned_countries\": [\"KP\", \"IR\"], \"blocked_networks\": [\"203.0.113.0/24\"]}";

/* Permitted by read_own_department. */
static const char* const kPermit =
    "{\"subject\":{\"id\":\"vera\",\"roles\":[\"payment_viewer\"],\"department\":\"ops\"},"
    "\"action\":\"read\",\"resource\":{\"type\":\"payment\",\"id\":\"p-1\",\"amount\":120.00,"
    "\"department\":\"ops\",\"created_by\":\"carl\",\"status\":\"pending\","
    "\"beneficiary_country\":\"FR\",\"beneficiary_iban\":\"FR7630006000011234567890189\"}}";

/* Denied by locked_account. */
static const char* const kDeny =
    "{\"subject\":{\"id\":\"vera\",\"roles\":[\"payment_viewer\"],\"department\":\"ops\"},"
    "\"action\":\"read\",\"resource\":{\"type\":\"payment\",\"id\":\"p-14\",\"amount\":120.00,"
    "\"department\":\"ops\",\"created_by\":\"carl\",\"status\":\"pending\","
    "\"beneficiary_country\":\"FR\",\"beneficiary_iban\":\"FR7630006000011234567890189\"},"
    "\"context\":{\"attempts\":{\"locked\":true}}}";

static int Contains(const char* text, const char* part) {
  return text != NULL && strstr(text, part) != NULL;
}

static char* ReadFile(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  if (file == NULL) return NULL;
  char* bytes = NULL;
  size_t used = 0, capacity = 0;
  for (;;) {
    if (used == capacity) {
      capacity = capacity == 0 ? 4096 : capacity * 2;
      char* grown = realloc(bytes, capacity);
      if (grown == NULL) break;
      bytes = grown;
    }
    size_t got = fread(bytes + used, 1, capacity - used, file);
    used += got;
    if (got == 0) break;
  }
  fclose(file);
  *size = used;
  return bytes;
}

/* Decides `request` and checks the status and that the decision JSON
 * contains `part`. */
static void ExpectDecision(const warden_engine* engine, const char* request, warden_status status,
                           const char* part) {
  char* decision = NULL;
  size_t size = 0;
  CHECK_STATUS(warden_engine_decide(engine, request, strlen(request), &decision, &size), status);
  CHECK(decision != NULL);
  CHECK(decision != NULL && strlen(decision) == size);
  if (!Contains(decision, part)) {
    fprintf(stderr, "decision lacks %s: %s\n", part, decision ? decision : "(null)");
    ++failures;
  }
  warden_string_free(decision);
}

static void TestStatusNamesAndVersion(void) {
  CHECK(strcmp(warden_status_name(WARDEN_OK), "WARDEN_OK") == 0);
  CHECK(strcmp(warden_status_name(WARDEN_BAD_REQUEST), "WARDEN_BAD_REQUEST") == 0);
  CHECK(strcmp(warden_status_name(WARDEN_BAD_DATA), "WARDEN_BAD_DATA") == 0);
  CHECK(strcmp(warden_status_name((warden_status)7), "WARDEN_UNKNOWN_STATUS") == 0);
  CHECK(strlen(warden_version()) >= 5);
}

static void TestDecisions(const char* bundle) {
  warden_engine* engine = NULL;
  char* error = (char*)"untouched";
  CHECK_STATUS(warden_engine_load_file(bundle, kData, &engine, &error), WARDEN_OK);
  CHECK(error == NULL);
  if (engine == NULL) return;

  const char* hash = warden_engine_bundle_hash(engine);
  CHECK(hash != NULL && strlen(hash) == 64);

  ExpectDecision(engine, kPermit, WARDEN_OK, "\"decision\":\"permit\"");
  ExpectDecision(engine, kPermit, WARDEN_OK, "\"read_own_department\"");
  ExpectDecision(engine, kDeny, WARDEN_OK, "\"decision\":\"deny\"");
  ExpectDecision(engine, kDeny, WARDEN_OK, "\"locked_account\"");

  /* A bad request: cut short. The decision is still returned: deny. */
  ExpectDecision(engine, "{\"subject\":{\"id\":", WARDEN_BAD_REQUEST, "\"decision\":\"deny\"");
  ExpectDecision(engine, "{\"subject\":{\"id\":", WARDEN_BAD_REQUEST, "\"bad_request\"");
  ExpectDecision(engine, "", WARDEN_BAD_REQUEST, "\"decision\":\"deny\"");
  ExpectDecision(engine, "[]", WARDEN_BAD_REQUEST, "\"decision\":\"deny\"");

  /* Only `size` bytes are read: trailing bytes are not part of the request. */
  {
    size_t length = strlen(kPermit);
    char* padded = malloc(length + 8);
    CHECK(padded != NULL);
    if (padded != NULL) {
      memcpy(padded, kPermit, length);
      memcpy(padded + length, "garbage!", 8);
      char* decision = NULL;
      CHECK_STATUS(warden_engine_decide(engine, padded, length, &decision, NULL), WARDEN_OK);
      CHECK(Contains(decision, "\"decision\":\"permit\""));
      warden_string_free(decision);
      free(padded);
    }
  }
  warden_engine_free(engine);
}

static void TestLoadErrors(const char* bundle) {
  warden_engine* engine = (warden_engine*)1;
  char* error = NULL;

  CHECK_STATUS(warden_engine_load_file("/nonexistent/x.wdnb", kData, &engine, &error),
               WARDEN_NOT_FOUND);
  CHECK(engine == NULL);
  CHECK(Contains(error, "/nonexistent/x.wdnb"));
  warden_string_free(error);

  /* The payments policies declare data: a missing value fails the load. */
  CHECK_STATUS(warden_engine_load_file(bundle, NULL, &engine, &error), WARDEN_BAD_DATA);
  CHECK(engine == NULL);
  CHECK(Contains(error, "data `"));
  warden_string_free(error);

  CHECK_STATUS(warden_engine_load_file(bundle, "[1, 2]", &engine, &error), WARDEN_BAD_DATA);
  CHECK(Contains(error, "JSON object"));
  warden_string_free(error);

  CHECK_STATUS(warden_engine_load_file(bundle, "{\"sanctioned_countries\": ", &engine, &error),
               WARDEN_BAD_DATA);
  CHECK(error != NULL);
  warden_string_free(error);

  CHECK_STATUS(
      warden_engine_load_file(bundle, "{\"sanctioned_countries\": 5, \"blocked_networks\": []}",
                              &engine, &error),
      WARDEN_BAD_DATA);
  CHECK(Contains(error, "sanctioned_countries"));
  warden_string_free(error);

  CHECK_STATUS(
      warden_engine_load_file(
          bundle, "{\"sanctioned_countries\": [], \"blocked_networks\": [null]}", &engine, &error),
      WARDEN_BAD_DATA);
  CHECK(Contains(error, "data"));
  warden_string_free(error);

  /* The bundle from memory, then corrupt copies of it. */
  size_t size = 0;
  char* bytes = ReadFile(bundle, &size);
  CHECK(bytes != NULL && size > 64);
  if (bytes == NULL) return;

  CHECK_STATUS(warden_engine_load_bundle(bytes, size, kData, &engine, &error), WARDEN_OK);
  CHECK(error == NULL);
  if (engine != NULL) {
    ExpectDecision(engine, kPermit, WARDEN_OK, "\"decision\":\"permit\"");
    warden_engine_free(engine);
  }

  bytes[size / 2] ^= 0x5a; /* the content hash no longer matches */
  CHECK_STATUS(warden_engine_load_bundle(bytes, size, kData, &engine, &error), WARDEN_BAD_BUNDLE);
  CHECK(engine == NULL);
  CHECK(error != NULL && strlen(error) > 0);
  warden_string_free(error);
  bytes[size / 2] ^= 0x5a;

  CHECK_STATUS(warden_engine_load_bundle(bytes, size / 3, kData, &engine, &error),
               WARDEN_BAD_BUNDLE);
  CHECK(error != NULL);
  warden_string_free(error);

  CHECK_STATUS(warden_engine_load_bundle("not a bundle", 12, kData, &engine, &error),
               WARDEN_BAD_BUNDLE);
  CHECK(error != NULL);
  warden_string_free(error);

  CHECK_STATUS(warden_engine_load_bundle(NULL, 0, kData, &engine, &error), WARDEN_BAD_BUNDLE);
  warden_string_free(error);
  free(bytes);

  /* A bundle file that is a directory cannot be read. */
  CHECK(warden_engine_load_file("/", kData, &engine, &error) != WARDEN_OK);
  CHECK(engine == NULL);
  warden_string_free(error);
}

static void TestNullArguments(const char* bundle) {
  warden_engine* engine = NULL;
  char* error = NULL;
  CHECK_STATUS(warden_engine_load_file(NULL, kData, &engine, &error), WARDEN_INVALID_ARGUMENT);
  CHECK(Contains(error, "NULL"));
  warden_string_free(error);
  CHECK_STATUS(warden_engine_load_file(bundle, kData, NULL, &error), WARDEN_INVALID_ARGUMENT);
  warden_string_free(error);
  CHECK_STATUS(warden_engine_load_file(bundle, kData, NULL, NULL), WARDEN_INVALID_ARGUMENT);
  CHECK_STATUS(warden_engine_load_bundle(NULL, 10, kData, &engine, NULL), WARDEN_INVALID_ARGUMENT);
  CHECK(engine == NULL);

  /* Without error_message, failures just return the status. */
  CHECK_STATUS(warden_engine_load_file("/nonexistent", NULL, &engine, NULL), WARDEN_NOT_FOUND);

  char* decision = (char*)"untouched";
  size_t size = 99;
  CHECK_STATUS(warden_engine_decide(NULL, kPermit, strlen(kPermit), &decision, &size),
               WARDEN_INVALID_ARGUMENT);
  CHECK(decision == NULL);
  CHECK(size == 0);

  CHECK_STATUS(warden_engine_load_file(bundle, kData, &engine, NULL), WARDEN_OK);
  CHECK_STATUS(warden_engine_decide(engine, NULL, 5, &decision, &size), WARDEN_INVALID_ARGUMENT);
  CHECK(decision == NULL);
  CHECK_STATUS(warden_engine_decide(engine, kPermit, strlen(kPermit), NULL, &size),
               WARDEN_INVALID_ARGUMENT);
  CHECK(warden_engine_bundle_hash(NULL) == NULL);
  warden_engine_free(engine);
  warden_engine_free(NULL);
  warden_string_free(NULL);
}

enum { kThreads = 6, kRounds = 400 };

struct Worker {
  const warden_engine* engine;
  int index;
  int errors;
};

static void* Decide(void* arg) {
  struct Worker* worker = arg;
  for (int i = 0; i < kRounds; ++i) {
    int which = (i + worker->index) % 3;
    const char* request = which == 0 ? kPermit : which == 1 ? kDeny : "{\"action\":";
    const char* want = which == 0 ? "\"decision\":\"permit\"" : "\"decision\":\"deny\"";
    warden_status want_status = which == 2 ? WARDEN_BAD_REQUEST : WARDEN_OK;
    char* decision = NULL;
    warden_status status =
        warden_engine_decide(worker->engine, request, strlen(request), &decision, NULL);
    if (status != want_status || !Contains(decision, want)) ++worker->errors;
    warden_string_free(decision);
  }
  return NULL;
}

static void TestConcurrentDecisions(const char* bundle) {
  warden_engine* engine = NULL;
  CHECK_STATUS(warden_engine_load_file(bundle, kData, &engine, NULL), WARDEN_OK);
  if (engine == NULL) return;
  pthread_t threads[kThreads];
  struct Worker workers[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    workers[i].engine = engine;
    workers[i].index = i;
    workers[i].errors = 0;
    CHECK(pthread_create(&threads[i], NULL, Decide, &workers[i]) == 0);
  }
  for (int i = 0; i < kThreads; ++i) {
    pthread_join(threads[i], NULL);
    CHECK(workers[i].errors == 0);
  }
  warden_engine_free(engine);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: c_api_test PAYMENTS_BUNDLE\n");
    return 2;
  }
  TestStatusNamesAndVersion();
  TestDecisions(argv[1]);
  TestLoadErrors(argv[1]);
  TestNullArguments(argv[1]);
  TestConcurrentDecisions(argv[1]);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed\n");
  return 0;
}
