// A small compiled policy for the /v1/check stage tests (check_*_test.cc).
#ifndef WARDEN_TESTS_CHECK_STAGE_SUPPORT_H_
#define WARDEN_TESTS_CHECK_STAGE_SUPPORT_H_

#include <doctest/doctest.h>

#include <memory>

#include "compiler/codegen.h"
#include "compiler/driver.h"
#include "warden/engine.h"

namespace warden::auth::testing {

inline constexpr char kStagePolicy[] = R"(package t

schema {
  resource doc { owner: string }
  actions { read, admin }
}

role user
role operator

limit reads: 1 per 1h by subject.id

policy docs on doc {
  rule limited: deny read if limits.reads.exceeded because "read limit reached"
  rule admin_mfa: step_up mfa admin if not subject.auth.mfa
      obligation step_up { max_auth_age: 5m }
  rule users_read: permit read if subject has role user
}
)";

inline std::unique_ptr<Engine> StageEngine() {
  CompileOptions options;
  options.run_lints = false;
  auto compilation = CompileSources({{"t.warden", kStagePolicy}}, options);
  REQUIRE(compilation->program != nullptr);
  auto program = GenerateBytecode(*compilation->program, compilation->sources);
  REQUIRE(program.ok());
  auto engine = Engine::FromProgram(*std::move(program));
  REQUIRE(engine.ok());
  return *std::move(engine);
}

}  // namespace warden::auth::testing

#endif  // WARDEN_TESTS_CHECK_STAGE_SUPPORT_H_
