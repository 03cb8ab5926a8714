/* Deciding requests with the C API (docs/bindings.md).
 * Usage: decide BUNDLE [DATA_JSON]  — reads one JSON request per line on stdin
 * and prints each decision as JSON. */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <stdio.h>
#include <stdlib.h>

#include "warden.h"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: decide BUNDLE [DATA_JSON]\n");
    return 2;
  }
  /* Load and verify a bundle written by `warden compile -o`. */
  warden_engine* engine = NULL;
  char* error = NULL;
  warden_status status =
      warden_engine_load_file(argv[1], argc == 3 ? argv[2] : NULL, &engine, &error);
  if (status != WARDEN_OK) {
    fprintf(stderr, "cannot load %s: %s: %s\n", argv[1], warden_status_name(status),
            error != NULL ? error : "");
    warden_string_free(error);
    return 2;
  }
  char* line = NULL;
  size_t capacity = 0;
  ssize_t length;
  while ((length = getline(&line, &capacity, stdin)) > 0) {
    if (line[length - 1] == '\n') --length;
    char* decision = NULL;
    /* WARDEN_BAD_REQUEST still returns a decision: deny, with the error. */
    status = warden_engine_decide(engine, line, (size_t)length, &decision, NULL);
    if (status != WARDEN_OK && status != WARDEN_BAD_REQUEST) {
      fprintf(stderr, "decide: %s\n", warden_status_name(status));
      break;
    }
    printf("%s %s\n", warden_status_name(status), decision);
    warden_string_free(decision);
  }
  free(line);
  warden_engine_free(engine);
  return status == WARDEN_OK || status == WARDEN_BAD_REQUEST ? 0 : 1;
}
