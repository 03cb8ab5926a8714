#include "bindings/common/engine_pool.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/data_json.h"
#include "runtime/decision_json.h"

namespace warden::bindings {
bool ParseDataJson(std::string_view text, EngineOptions* options, LoadError* error) {
  absl::StatusOr<std::vector<std::pair<std::string, DataValue>>> data = warden::ParseDataJson(text);
  if (!data.ok()) {
    *error = {LoadErrorKind::kBadData, std::string(data.status().message())};
    return false;
  }
  for (auto& entry : *data) options->data.push_back(std::move(entry));
  return true;
}

PooledEngine::PooledEngine(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {
  idle_.reserve(kMaxIdle);  // Release never allocates
}

PooledEngine::~PooledEngine() = default;

std::unique_ptr<PooledEngine> PooledEngine::Finish(absl::StatusOr<std::unique_ptr<Engine>> engine,
                                                   std::string_view where, LoadError* error) {
  if (engine.ok()) return std::unique_ptr<PooledEngine>(new PooledEngine(std::move(*engine)));
  const absl::Status& status = engine.status();
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInternal:  // Engine::FromFile: "cannot read PATH"
      *error = {LoadErrorKind::kNotFound, std::move(message)};
      break;
    case absl::StatusCode::kInvalidArgument:
      // Data problems are reported as "data `NAME`: …" (runtime/engine.cc).
      if (absl::StartsWith(message, "data `")) {
        *error = {LoadErrorKind::kBadData, std::move(message)};
        break;
      }
      [[fallthrough]];
    default:
      *error = {LoadErrorKind::kBadBundle, where.empty()
                                               ? std::move(message)
                                               : absl::StrCat(std::string(where), ": ", message)};
      break;
  }
  return nullptr;
}

std::unique_ptr<PooledEngine> PooledEngine::LoadFile(const std::string& path, const char* data_json,
                                                     LoadError* error) {
  EngineOptions options;
  if (data_json != nullptr && !ParseDataJson(data_json, &options, error)) return nullptr;
  return Finish(Engine::FromFile(path, std::move(options)), path, error);
}

std::unique_ptr<PooledEngine> PooledEngine::LoadBundle(std::string_view bytes,
                                                       const char* data_json, LoadError* error) {
  EngineOptions options;
  if (data_json != nullptr && !ParseDataJson(data_json, &options, error)) return nullptr;
  return Finish(Engine::FromBundle(bytes, std::move(options)), "", error);
}

std::unique_ptr<PooledEngine::Slot> PooledEngine::Acquire() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Slot> slot = std::move(idle_.back());
      idle_.pop_back();
      return slot;
    }
  }
  return std::make_unique<Slot>(*engine_);
}

void PooledEngine::Release(std::unique_ptr<Slot> slot) const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(slot));  // capacity reserved
}

bool PooledEngine::Render(std::string_view request, Slot* slot) const {
  slot->out.clear();
  bool decoded = engine_->DecideJson(request, slot->session, &slot->decision);
  if (decoded) {
    AppendDecisionJson(*engine_, slot->decision, slot->session.errors(), &slot->out);
  } else {
    AppendBadRequestJson(slot->session.errors(), &slot->out);
  }
  return decoded;
}

}  // namespace warden::bindings
