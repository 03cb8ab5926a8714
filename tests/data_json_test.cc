// `data` values from JSON (runtime/data_json.h).
#include "runtime/data_json.h"

#include <doctest/doctest.h>

#include <string>

namespace warden {
namespace {

// Issue 12, finding 8 (every JSON file): a repeated key was kept twice and
// one of the two silently won.
TEST_CASE("a repeated key in a data file is an error naming its path") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"({"a": 1, "b": 2, "a": 3})", "data: duplicate key `a`"},
      {R"({"users": {"ann": {"tier": 1, "tier": 2}}})", "data: duplicate key `users.ann.tier`"},
      {R"({"l": [{"x": 1}, {"x": 1, "x": 2}]})", "data: duplicate key `l[1].x`"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto parsed = ParseDataJson(c.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.status().message()) == c.message);
  }
  // Equal keys in different objects are fine.
  auto ok = ParseDataJson(R"({"a": {"x": 1}, "b": {"x": 2}, "l": [{"x": 1}, {"x": 2}]})");
  REQUIRE(ok.ok());
  CHECK(ok->size() == 3);
}

}  // namespace
}  // namespace warden
