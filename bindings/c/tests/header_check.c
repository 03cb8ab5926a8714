/* Compiled as C99 with -Wpedantic (and nothing else): include/warden.h stands
 * alone in strict C. */
#include "warden.h"

const char* warden_header_check(void);
const char* warden_header_check(void) { return warden_status_name(WARDEN_OK); }
