// The C API of include/warden.h over bindings/common's PooledEngine.
// Every entry point catches everything: no exception crosses the boundary.
#include "warden.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "bindings/common/engine_pool.h"

struct warden_engine {
  std::unique_ptr<warden::bindings::PooledEngine> pool;
};

namespace {

using warden::bindings::LoadError;
using warden::bindings::LoadErrorKind;
using warden::bindings::PooledEngine;

// A malloc'd NUL-terminated copy (freed by warden_string_free), or NULL.
char* Copy(std::string_view text) noexcept {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) return nullptr;
  if (!text.empty()) std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

void SetMessage(char** error_message, std::string_view message) noexcept {
  if (error_message != nullptr) *error_message = Copy(message);
}

warden_status StatusOf(LoadErrorKind kind) noexcept {
  switch (kind) {
    case LoadErrorKind::kNone:
      return WARDEN_OK;
    case LoadErrorKind::kInvalidArgument:
      return WARDEN_INVALID_ARGUMENT;
    case LoadErrorKind::kNotFound:
      return WARDEN_NOT_FOUND;
    case LoadErrorKind::kBadBundle:
      return WARDEN_BAD_BUNDLE;
    case LoadErrorKind::kBadData:
      return WARDEN_BAD_DATA;
    case LoadErrorKind::kInternal:
      break;
  }
  return WARDEN_INTERNAL;
}

// The common tail of both loads: `load` returns the engine or fills `error`.
template <typename Load>
warden_status LoadWith(warden_engine** out, char** error_message, Load&& load) noexcept {
  try {
    LoadError error;
    std::unique_ptr<PooledEngine> pool = load(&error);
    if (pool == nullptr) {
      if (error.kind == LoadErrorKind::kNone) error = {LoadErrorKind::kInternal, "load failed"};
      SetMessage(error_message, error.message);
      return StatusOf(error.kind);
    }
    *out = new warden_engine{std::move(pool)};
    return WARDEN_OK;
  } catch (const std::bad_alloc&) {
    SetMessage(error_message, "out of memory");
  } catch (const std::exception& e) {
    SetMessage(error_message, e.what());
  } catch (...) {
    SetMessage(error_message, "unexpected failure");
  }
  return WARDEN_INTERNAL;
}

// Sets the out-parameters of a load to "nothing" and checks them.
bool StartLoad(warden_engine** out, char** error_message) noexcept {
  if (error_message != nullptr) *error_message = nullptr;
  if (out == nullptr) {
    SetMessage(error_message, "out is NULL");
    return false;
  }
  *out = nullptr;
  return true;
}

}  // namespace

extern "C" {

warden_status warden_engine_load_file(const char* bundle_path, const char* data_json,
                                      warden_engine** out, char** error_message) {
  if (!StartLoad(out, error_message)) return WARDEN_INVALID_ARGUMENT;
  if (bundle_path == nullptr) {
    SetMessage(error_message, "bundle_path is NULL");
    return WARDEN_INVALID_ARGUMENT;
  }
  return LoadWith(out, error_message, [&](LoadError* error) {
    return PooledEngine::LoadFile(bundle_path, data_json, error);
  });
}

warden_status warden_engine_load_bundle(const void* bytes, size_t size, const char* data_json,
                                        warden_engine** out, char** error_message) {
  if (!StartLoad(out, error_message)) return WARDEN_INVALID_ARGUMENT;
  if (bytes == nullptr && size != 0) {
    SetMessage(error_message, "bytes is NULL");
    return WARDEN_INVALID_ARGUMENT;
  }
  return LoadWith(out, error_message, [&](LoadError* error) {
    std::string_view view(bytes == nullptr ? "" : static_cast<const char*>(bytes), size);
    return PooledEngine::LoadBundle(view, data_json, error);
  });
}

warden_status warden_engine_decide(const warden_engine* engine, const char* request_json,
                                   size_t size, char** decision_json, size_t* decision_size) {
  if (decision_size != nullptr) *decision_size = 0;
  if (decision_json == nullptr) return WARDEN_INVALID_ARGUMENT;
  *decision_json = nullptr;
  if (engine == nullptr || request_json == nullptr) return WARDEN_INVALID_ARGUMENT;
  try {
    char* copy = nullptr;
    size_t copied = 0;
    bool decoded =
        engine->pool->Decide(std::string_view(request_json, size), [&](const std::string& out) {
          copy = Copy(out);
          copied = out.size();
        });
    if (copy == nullptr) return WARDEN_INTERNAL;
    *decision_json = copy;
    if (decision_size != nullptr) *decision_size = copied;
    return decoded ? WARDEN_OK : WARDEN_BAD_REQUEST;
  } catch (...) {
    return WARDEN_INTERNAL;
  }
}

const char* warden_engine_bundle_hash(const warden_engine* engine) {
  if (engine == nullptr) return nullptr;
  return engine->pool->bundle_hash().c_str();
}

void warden_engine_free(warden_engine* engine) {
  try {
    delete engine;
  } catch (...) {  // destructors do not throw; nothing may cross the boundary regardless
  }
}

void warden_string_free(char* string) { std::free(string); }

const char* warden_status_name(warden_status status) {
  switch (status) {
    case WARDEN_OK:
      return "WARDEN_OK";
    case WARDEN_INVALID_ARGUMENT:
      return "WARDEN_INVALID_ARGUMENT";
    case WARDEN_NOT_FOUND:
      return "WARDEN_NOT_FOUND";
    case WARDEN_BAD_BUNDLE:
      return "WARDEN_BAD_BUNDLE";
    case WARDEN_BAD_REQUEST:
      return "WARDEN_BAD_REQUEST";
    case WARDEN_INTERNAL:
      return "WARDEN_INTERNAL";
    case WARDEN_BAD_DATA:
      return "WARDEN_BAD_DATA";
  }
  return "WARDEN_UNKNOWN_STATUS";
}

const char* warden_version(void) { return WARDEN_C_VERSION; }

}  // extern "C"
