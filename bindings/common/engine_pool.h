// Shared by the C API (bindings/c) and the Python module (bindings/python):
// an Engine with a pool of per-thread JSON sessions, the conversion of a
// JSON object of `data` values, and load errors mapped to stable kinds.
//
// Internal: not part of any public interface.
#ifndef WARDEN_BINDINGS_COMMON_ENGINE_POOL_H_
#define WARDEN_BINDINGS_COMMON_ENGINE_POOL_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "warden/engine.h"

namespace warden::bindings {

// Why a load failed; each maps to a C status code and a Python message.
enum class LoadErrorKind {
  kNone,
  kInvalidArgument,  // a null argument
  kNotFound,         // the bundle file cannot be opened or read
  kBadBundle,        // not a valid bundle (format, hash, verification, limits)
  kBadData,          // data JSON malformed, or a value missing, unknown or mistyped
  kInternal,         // out of memory, or any other unexpected failure
};

struct LoadError {
  LoadErrorKind kind = LoadErrorKind::kNone;
  std::string message;
};

// Parses `json` (a JSON object: data name -> value) into load options with
// runtime/data_json.h, as `warden eval --data` and `warden serve` do.
// Returns false and sets *error (kind kBadData) on a problem.
bool ParseDataJson(std::string_view json, EngineOptions* options, LoadError* error);

// An Engine plus a pool of JSON sessions, so a steady stream of decisions
// reuses warm sessions (no rebuild, no allocation in the decoder). Any
// number of threads may call Decide at once.
class PooledEngine {
 public:
  // `data_json` may be null (no data). Never throws except std::bad_alloc.
  static std::unique_ptr<PooledEngine> LoadFile(const std::string& path, const char* data_json,
                                                LoadError* error);
  static std::unique_ptr<PooledEngine> LoadBundle(std::string_view bytes, const char* data_json,
                                                  LoadError* error);

  const Engine& engine() const { return *engine_; }
  const std::string& bundle_hash() const { return engine_->bundle_hash(); }

  // Decides a JSON request and writes the decision JSON (the shape of
  // `warden eval`; a bad request gets the bad-request shape, whose decision
  // is deny) through `emit(const std::string&)` while the session is held.
  // Returns true when the request was decoded, false for a bad request.
  template <typename Emit>
  bool Decide(std::string_view request, Emit&& emit) const {
    Lease lease(this);
    bool decoded = Render(request, lease.slot());
    emit(lease.slot()->out);
    return decoded;
  }

  ~PooledEngine();
  PooledEngine(const PooledEngine&) = delete;
  PooledEngine& operator=(const PooledEngine&) = delete;

 private:
  struct Slot {
    explicit Slot(const Engine& engine) : session(engine) {}
    JsonSession session;
    Decision decision;
    std::string out;
  };
  class Lease {
   public:
    explicit Lease(const PooledEngine* pool) : pool_(pool), slot_(pool->Acquire()) {}
    ~Lease() { pool_->Release(std::move(slot_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Slot* slot() const { return slot_.get(); }

   private:
    const PooledEngine* pool_;
    std::unique_ptr<Slot> slot_;
  };

  explicit PooledEngine(std::unique_ptr<Engine> engine);
  static std::unique_ptr<PooledEngine> Finish(absl::StatusOr<std::unique_ptr<Engine>> engine,
                                              std::string_view where, LoadError* error);
  std::unique_ptr<Slot> Acquire() const;
  void Release(std::unique_ptr<Slot> slot) const noexcept;
  bool Render(std::string_view request, Slot* slot) const;

  // At most this many idle sessions are kept; more concurrent callers get
  // sessions that are dropped when they finish.
  static constexpr size_t kMaxIdle = 64;

  std::unique_ptr<Engine> engine_;
  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<Slot>> idle_;
};

}  // namespace warden::bindings

#endif  // WARDEN_BINDINGS_COMMON_ENGINE_POOL_H_
