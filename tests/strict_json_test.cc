// The strict JSON reader shared by the config, JWKS, tokens and AuthZEN.
#include "runtime/strict_json.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace warden {
namespace {

StrictJsonError Refusal(const std::string& text, StrictJsonOptions options = {}) {
  nlohmann::json out;
  StrictJsonError error;
  CHECK_FALSE(ParseStrictJson(text, options, &out, &error));
  CHECK(out.is_null());
  return error;
}

TEST_CASE("a duplicate key is named by its path and line") {
  StrictJsonError e = Refusal("{\n  \"audit\": {\"path\": \"a\"},\n  \"audit\": {}\n}");
  CHECK(e.kind == StrictJsonError::Kind::kDuplicateKey);
  CHECK(e.path == "audit");
  CHECK(e.line == 3);
  CHECK(e.message == "duplicate key `audit` (line 3)");

  e = Refusal(R"({"auth":{"issuers":[{"a":1},{"jwks":"x","b":[1,{"c":2}],"jwks":"y"}]}})");
  CHECK(e.path == "auth.issuers[1].jwks");
  CHECK(e.line == 1);
  e = Refusal(R"([[1,2],{"k":{"x":1,"x":2}}])");
  CHECK(e.path == "[1].k.x");
}

TEST_CASE("a key that would be ambiguous bare is quoted in the path") {
  // Found by config_fuzzer: an empty key twice had the path "".
  StrictJsonError e = Refusal("{\"qolicies\":\"p\", /* c */ \"\": \"p\", /* c */ \"\": false}\n",
                              {.ignore_comments = true});
  CHECK(e.kind == StrictJsonError::Kind::kDuplicateKey);
  CHECK(e.path == "[\"\"]");
  CHECK(e.message == "duplicate key `[\"\"]` (line 1)");
  CHECK(Refusal(R"({"x":{"a.b":1,"a.b":2}})").path == "x[\"a.b\"]");
  CHECK(Refusal(R"({"[0]":{"k":1,"k":2}})").path == "[\"[0]\"].k");
}

TEST_CASE("an object of 100,000 keys is read, and its last key checked against all") {
  std::string text = "{";
  for (int i = 0; i < 100000; ++i) text += "\"k" + std::to_string(i) + "\":0,";
  nlohmann::json out;
  CHECK(ParseStrictJson(text + "\"end\":0}", {}, &out, nullptr));
  CHECK(out.size() == 100001);
  CHECK(Refusal(text + "\"k0\":1}").path == "k0");
}

TEST_CASE("ObjectKeys finds a repeat on both sides of its switch to hashing") {
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back("k" + std::to_string(i));
  for (size_t count : {size_t{3}, size_t{16}, size_t{17}, size_t{1000}}) {
    CAPTURE(count);
    ObjectKeys keys;
    for (size_t i = 0; i < count; ++i) CHECK(keys.Add(names[i]));
    CHECK_FALSE(keys.Add(names[0]));
    CHECK_FALSE(keys.Add(names[count - 1]));
    CHECK(keys.Add("fresh"));
  }
}

TEST_CASE("equal keys in different objects are not duplicates") {
  nlohmann::json out;
  StrictJsonError error;
  CHECK(ParseStrictJson(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}]})", {}, &out, &error));
  CHECK(error.kind == StrictJsonError::Kind::kNone);
  CHECK(out["c"][1]["x"] == 4);
}

TEST_CASE("syntax, depth and comments") {
  CHECK(Refusal("{\"a\":").kind == StrictJsonError::Kind::kSyntax);
  CHECK(Refusal("[[[1]]]", {.max_depth = 2}).kind == StrictJsonError::Kind::kTooDeep);
  CHECK(Refusal("{\"a\": 1 /* c */}").kind == StrictJsonError::Kind::kSyntax);
  nlohmann::json out;
  StrictJsonError error;
  CHECK(ParseStrictJson("{\"a\": 1 /* c */}", {.ignore_comments = true}, &out, &error));
  CHECK(ParseStrictJson("[[1]]", {.max_depth = 2}, &out, &error));
}

}  // namespace
}  // namespace warden
