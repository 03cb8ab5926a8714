// CompileToEngine: sources to a loaded engine, and which step failed.
#include "compiler/driver_engine.h"

#include <doctest/doctest.h>

#include <string>

#include "warden/engine.h"

namespace warden {
namespace {

const char* kPolicy = R"(package t
schema { resource doc { owner: string } actions { read } }
data admins: set<string>
policy p on doc {
  rule own: permit read if resource.owner == subject.id
  rule admin: permit read if subject.id in data.admins
}
)";

EngineOptions WithAdmins() {
  EngineOptions options;
  options.data.emplace_back("admins", DataValue::List({DataValue::String("root")}));
  return options;
}

rt::Outcome Decide(const Engine& engine, const std::string& json) {
  JsonSession session(engine);
  Decision decision;
  REQUIRE_MESSAGE(engine.DecideJson(json, session, &decision), json);
  return decision.outcome;
}

TEST_CASE("CompileToEngine: the engine decides what the sources say") {
  EngineBuild build =
      CompileToEngine(PolicySources::Texts({{"t.warden", kPolicy}}), {}, WithAdmins());
  REQUIRE(build.compilation != nullptr);
  REQUIRE_MESSAGE(build.engine.ok(), build.engine.status().ToString());
  CHECK(!build.load_failed);
  const Engine& engine = **build.engine;
  CHECK(Decide(engine, R"({"subject": {"id": "ann"}, "action": "read",
                           "resource": {"type": "doc", "id": "d", "owner": "ann"}})") ==
        rt::Outcome::kPermit);
  CHECK(Decide(engine, R"({"subject": {"id": "root"}, "action": "read",
                           "resource": {"type": "doc", "id": "d", "owner": "bob"}})") ==
        rt::Outcome::kPermit);
  CHECK(Decide(engine, R"({"subject": {"id": "eve"}, "action": "read",
                           "resource": {"type": "doc", "id": "d", "owner": "bob"}})") !=
        rt::Outcome::kPermit);
}

TEST_CASE("CompileToEngine: driver errors and load errors are told apart") {
  EngineBuild missing = CompileToEngine(PolicySources::Paths({"/nonexistent/warden/policies"}));
  CHECK(missing.compilation == nullptr);
  CHECK(absl::IsNotFound(missing.engine.status()));
  CHECK(!missing.load_failed);

  EngineBuild bad =
      CompileToEngine(PolicySources::Texts({{"t.warden", "package t\nconst X = \n"}}));
  REQUIRE(bad.compilation != nullptr);
  CHECK(bad.compilation->program == nullptr);
  CHECK(absl::IsInvalidArgument(bad.engine.status()));
  CHECK(!bad.load_failed);

  // The data value is missing: the program is fine, loading it is not.
  EngineBuild no_data = CompileToEngine(PolicySources::Texts({{"t.warden", kPolicy}}));
  REQUIRE(no_data.compilation != nullptr);
  CHECK(no_data.compilation->program != nullptr);
  CHECK(!no_data.engine.ok());
  CHECK(no_data.load_failed);
  CHECK(std::string(no_data.engine.status().message()).find("admins") != std::string::npos);
}

}  // namespace
}  // namespace warden
