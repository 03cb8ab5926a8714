#include "compiler/checked_dump.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/driver.h"

namespace warden {
namespace {

TEST_CASE("the checked program dump shows types, attribute ids and inlined helpers") {
  auto compilation = CompileSources({{"d.warden", R"(package d
schema {
  resource doc { owner: string  level: enum { low, high } }
  actions { read }
}
role reader
const LIMIT = 3
def owns = resource.owner == subject.id
policy p on doc combine first_applicable {
  rule r: permit read if owns and resource.level == high and subject has role reader
}
)"}});
  REQUIRE(compilation->program != nullptr);
  std::string dump = DumpChecked(*compilation->program, compilation->sources);
  CHECK(dump.find("policy d.p on doc combine first_applicable @d.warden:9") != std::string::npos);
  CHECK(dump.find("  rule r permit [read] @d.warden:10\n") != std::string::npos);
  CHECK(dump.find("resource.doc.owner : string") != std::string::npos);  // the def, inlined
  CHECK(dump.find("const high : enum resource.doc.level") != std::string::npos);
  CHECK(dump.find("has_role reader : bool") != std::string::npos);
  CHECK(dump.find("roots [policy d.p]") != std::string::npos);
}

}  // namespace
}  // namespace warden
