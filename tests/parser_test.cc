#include "compiler/parser.h"

#include <doctest/doctest.h>

#include <string>

namespace warden {
namespace {

struct Parsed {
  SourceManager sources;
  DiagnosticSink sink;
  std::unique_ptr<ast::File> file;
  std::string rendered;
};

std::unique_ptr<Parsed> Parse(std::string text, ParserOptions options = {}) {
  auto parsed = std::make_unique<Parsed>();
  FileId id = parsed->sources.Add("test.warden", std::move(text));
  parsed->file = ParseFile(parsed->sources, id, parsed->sink, options);
  for (const Diagnostic& d : parsed->sink.Sorted()) {
    parsed->rendered += RenderText(d, parsed->sources);
  }
  return parsed;
}

TEST_CASE("parses a package with a policy") {
  auto p = Parse(R"(package acme.payments
policy payments on payment combine deny_overrides {
  rule r1: permit read if subject.department == resource.department
  rule r2: deny approve if resource.created_by == subject.id because "maker-checker"
})");
  REQUIRE(p->file != nullptr);
  CHECK(p->rendered.empty());
  CHECK(p->file->package.ToString() == "acme.payments");
  REQUIRE(p->file->declarations.size() == 1);
  const auto& policy = *p->file->declarations[0].policy;
  CHECK(policy.name.text == "payments");
  REQUIRE(policy.rules.size() == 2);
  CHECK(policy.rules[1].effect == ast::EffectKind::kDeny);
  CHECK(*policy.rules[1].reason == "maker-checker");
  CHECK(policy.rules[0].condition->kind == ast::ExprKind::kBinary);
}

TEST_CASE("syntax errors have location and caret") {
  auto p = Parse("package a\npolicy p on x {\n  rule r: permit read if (\n}\n");
  CHECK(p->file == nullptr);
  CHECK(p->sink.has_errors());
  CHECK(p->rendered.find("test.warden:4:1: error[E0003]: unexpected `}`") != std::string::npos);
  CHECK(p->rendered.find("4 | }\n  | ^") != std::string::npos);
}

TEST_CASE("unterminated string and comment") {
  auto p = Parse("package a\nconst x = \"abc\n");
  CHECK(p->rendered.find("test.warden:2:11: error[E0005]") != std::string::npos);
  auto q = Parse("package a\n/* never closed\n");
  CHECK(q->rendered.find("test.warden:2:1: error[E0006]") != std::string::npos);
}

TEST_CASE("invalid utf-8 is reported at its byte") {
  auto p = Parse(std::string("package a\nconst x = \"a\xff\"\n"));
  CHECK(p->file == nullptr);
  CHECK(p->rendered.find("test.warden:2:13: error[E0001]") != std::string::npos);
}

TEST_CASE("deep nesting is a diagnostic, not a crash") {
  std::string deep =
      "package a\nconst x = " + std::string(20000, '(') + "1" + std::string(20000, ')');
  auto p = Parse(deep);
  CHECK(p->file == nullptr);
  CHECK(p->rendered.find("error[E0004]") != std::string::npos);

  std::string nots = "package a\nconst x = ";
  for (int i = 0; i < 20000; ++i) nots += "not ";
  nots += "true";
  auto q = Parse(nots);
  CHECK(q->file == nullptr);
  CHECK(q->rendered.find("error[E0004]") != std::string::npos);
}

TEST_CASE("long operator chains are bounded, not a stack overflow") {
  std::string chain = "package a\nconst x = a0";
  for (int i = 1; i < 20000; ++i) chain += " and a" + std::to_string(i);
  auto p = Parse(chain);
  CHECK(p->file == nullptr);
  CHECK(p->rendered.find("error[E0004]: this expression nests more than 512 operators deep") !=
        std::string::npos);
}

TEST_CASE("negative literals fold once") {
  auto p = Parse("package a\nconst x = -(-5)\nconst y = -5\nconst z = -(5)\n");
  REQUIRE(p->file != nullptr);
  const auto& x = *p->file->declarations[0].constant->value;
  CHECK(x.kind == ast::ExprKind::kNegate);
  CHECK(x.args[0]->int_value == -5);
  CHECK(p->file->declarations[1].constant->value->int_value == -5);
  CHECK(p->file->declarations[2].constant->value->kind == ast::ExprKind::kNegate);
}

TEST_CASE("oversized file") {
  ParserOptions options;
  options.max_file_bytes = 100;
  auto p = Parse("package a\n" + std::string(200, ' '), options);
  CHECK(p->rendered.find("error[E0002]") != std::string::npos);
}

TEST_CASE("literals") {
  auto p = Parse(R"(package a
const a = 10000.50
const b = 1h30m
const c = "tab\tquote\"\u{e9}"
const d = 1.23456
const e = 99999999999999999999
const f = "bad \q escape"
)");
  REQUIRE(p->file != nullptr);
  auto& decls = p->file->declarations;
  CHECK(decls[0].constant->value->int_value == 100005000);
  CHECK(decls[1].constant->value->int_value == 90 * 60 * 1000);
  CHECK(decls[2].constant->value->text == "tab\tquote\"\xc3\xa9");
  CHECK(p->rendered.find("test.warden:5:11: error[E0008]: decimal `1.23456` has more than 4") !=
        std::string::npos);
  CHECK(p->rendered.find("test.warden:6:11: error[E0008]: integer") != std::string::npos);
  CHECK(p->rendered.find("test.warden:7:16: error[E0008]: invalid escape") != std::string::npos);
}

TEST_CASE("soft keywords are usable as attribute names") {
  auto p = Parse(R"(package a
policy p on doc {
  rule r: permit read if resource.data.max == subject.role and resource.policy has limit
})");
  CHECK(p->rendered == "");
  CHECK(p->file != nullptr);
}

TEST_CASE("syntax errors are capped per file") {
  std::string text = "package a\n";
  for (int i = 0; i < 100; ++i) text += "policy ) ( \n";
  auto p = Parse(text);
  CHECK(p->sink.error_count() <= 10);
}

TEST_CASE("comments are collected for the formatter") {
  auto p = Parse("// head\npackage a // trailing\n/* block */\n");
  REQUIRE(p->file != nullptr);
  REQUIRE(p->file->comments.size() == 3);
  CHECK(p->file->comments[0].own_line);
  CHECK_FALSE(p->file->comments[1].own_line);
}

}  // namespace
}  // namespace warden
