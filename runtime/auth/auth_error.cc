#include "runtime/auth/auth_error.h"

namespace warden::auth {

const char* AuthErrorCode(AuthError error) {
  switch (error) {
#define WARDEN_AUTH_ERROR_CODE(name, code, meaning) \
  case AuthError::name:                             \
    return code;
    WARDEN_AUTH_ERRORS(WARDEN_AUTH_ERROR_CODE)
#undef WARDEN_AUTH_ERROR_CODE
  }
  return "unknown";
}

const char* AuthErrorMeaning(AuthError error) {
  switch (error) {
#define WARDEN_AUTH_ERROR_MEANING(name, code, meaning) \
  case AuthError::name:                                \
    return meaning;
    WARDEN_AUTH_ERRORS(WARDEN_AUTH_ERROR_MEANING)
#undef WARDEN_AUTH_ERROR_MEANING
  }
  return "unknown";
}

}  // namespace warden::auth
