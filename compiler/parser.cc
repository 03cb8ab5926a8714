// The ANTLR boundary: runs the generated lexer and parser, records their
// errors as diagnostics, and turns the parse tree into ast::File.
#include "compiler/parser.h"

#include <limits>
#include <string>
#include <vector>

#include "WardenLexer.h"
#include "WardenParser.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "antlr4-runtime.h"
#include "compiler/internal/literals.h"
#include "compiler/internal/utf8.h"
#include "runtime/values/decimal.h"
#include "runtime/values/duration.h"

namespace warden {
namespace {

using warden_grammar::WardenLexer;
using warden_grammar::WardenParser;

// Thrown from inside ANTLR callbacks to stop parsing; caught in ParseFile.
struct StopParsing {};

// Maps ANTLR's code-point indices to byte offsets of the original text.
class OffsetMap {
 public:
  explicit OffsetMap(const std::string& text) {
    offsets_.reserve(text.size() + 1);
    for (uint32_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets_.push_back(i);
    }
    offsets_.push_back(static_cast<uint32_t>(text.size()));
  }
  uint32_t ByteOffset(size_t code_point_index) const {
    if (code_point_index >= offsets_.size()) return offsets_.back();
    return offsets_[code_point_index];
  }

 private:
  std::vector<uint32_t> offsets_;
};

std::string DisplayToken(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  if (type == antlr4::Token::EOF) return "end of file";
  switch (type) {
    case WardenLexer::ID:
      return "a name";
    case WardenLexer::STRING:
      return "a string";
    case WardenLexer::INT:
      return "an integer";
    case WardenLexer::DECIMAL:
      return "a decimal";
    case WardenLexer::DURATION:
      return "a duration";
    default:
      break;
  }
  std::string literal = vocabulary.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'') {
    return absl::StrCat("`", literal.substr(1, literal.size() - 2), "`");
  }
  return std::string(vocabulary.getDisplayName(type));
}

class DiagnosticListener : public antlr4::BaseErrorListener {
 public:
  DiagnosticListener(FileId file, const OffsetMap& offsets, DiagnosticSink& sink, int max_errors)
      : file_(file), offsets_(offsets), sink_(sink), max_errors_(max_errors) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t /*line*/,
                   size_t /*column*/, const std::string& message,
                   std::exception_ptr /*e*/) override {
    Span span{file_, 0, 0};
    if (offending != nullptr) {
      span.begin = offsets_.ByteOffset(offending->getStartIndex());
      span.end = offending->getType() == antlr4::Token::EOF
                     ? span.begin
                     : offsets_.ByteOffset(offending->getStopIndex() + 1);
    }
    if (span.begin == last_error_offset_) return;  // one report per place
    last_error_offset_ = span.begin;
    // Recovery right after an error often trips over the next few tokens;
    // those follow-on errors describe the same problem, so they are dropped.
    if (offending != nullptr) {
      size_t index = offending->getTokenIndex();
      bool follow_on =
          last_error_token_ != SIZE_MAX && index <= last_error_token_ + kFollowOnTokens;
      last_error_token_ = index;
      if (follow_on) return;
    }
    ++errors_;
    Report(recognizer, offending, span, message);
    if (errors_ >= max_errors_) throw StopParsing{};
  }

  int errors() const { return errors_; }

 private:
  void Report(antlr4::Recognizer* recognizer, antlr4::Token* offending, Span span,
              const std::string& message) {
    if (offending == nullptr) {
      sink_.Report(DiagCode::kSyntaxError, span, message);
      return;
    }
    switch (offending->getType()) {
      case WardenLexer::UNTERMINATED_STRING:
        sink_.Report(DiagCode::kUnterminatedString, span, "this string has no closing quote",
                     "strings end on the line they start; add `\"`");
        return;
      case WardenLexer::UNTERMINATED_BLOCK_COMMENT:
        sink_.Report(DiagCode::kUnterminatedComment, span, "this comment has no closing `*/`");
        return;
      case WardenLexer::UNEXPECTED_CHAR:
        sink_.Report(DiagCode::kUnexpectedCharacter, span,
                     absl::StrCat("unexpected character `", offending->getText(), "`"));
        return;
      default:
        break;
    }
    std::string what = offending->getType() == antlr4::Token::EOF
                           ? "unexpected end of file"
                           : absl::StrCat("unexpected `", offending->getText(), "`");
    std::string help;
    if (auto* parser = dynamic_cast<antlr4::Parser*>(recognizer); parser != nullptr) {
      antlr4::misc::IntervalSet expected;
      try {
        expected = parser->getExpectedTokens();
      } catch (...) {
      }
      std::vector<std::string> names;
      for (size_t type : expected.toList()) {
        if (type == WardenLexer::SENSITIVE) continue;
        names.push_back(DisplayToken(parser->getVocabulary(), type));
      }
      // Soft keywords make long lists; a name covers them.
      if (!names.empty() && names.size() <= 8) {
        help = absl::StrCat("expected ", absl::StrJoin(names, ", "));
      } else if (names.size() > 8 && expected.contains(static_cast<ssize_t>(WardenLexer::ID))) {
        help = "expected a name or an expression here";
      }
    }
    if (help.empty() && message.find("no viable alternative") == std::string::npos) {
      // ANTLR's own words, minus the token sets that overwhelm.
      help.clear();
    }
    sink_.Report(DiagCode::kSyntaxError, span, what, help);
  }

  FileId file_;
  const OffsetMap& offsets_;
  DiagnosticSink& sink_;
  int max_errors_;
  static constexpr size_t kFollowOnTokens = 3;
  int errors_ = 0;
  uint32_t last_error_offset_ = UINT32_MAX;
  size_t last_error_token_ = SIZE_MAX;
};

// Stops the parse when rule nesting would exceed the configured depth, so
// adversarial input cannot exhaust the stack.
class DepthGuard : public antlr4::tree::ParseTreeListener {
 public:
  explicit DepthGuard(size_t max_depth) : max_depth_(max_depth) {}
  void visitTerminal(antlr4::tree::TerminalNode*) override {}
  void visitErrorNode(antlr4::tree::ErrorNode*) override {}
  void enterEveryRule(antlr4::ParserRuleContext* ctx) override {
    if (static_cast<size_t>(ctx->depth()) > max_depth_) {
      exceeded_at_ = ctx->getStart();
      throw StopParsing{};
    }
  }
  void exitEveryRule(antlr4::ParserRuleContext*) override {}
  antlr4::Token* exceeded_at() const { return exceeded_at_; }

 private:
  size_t max_depth_;
  antlr4::Token* exceeded_at_ = nullptr;
};

// Builds the AST from a parse tree that had no syntax errors. Literal errors
// (bad escapes, overflow) are reported and the literal gets a zero value.
class AstBuilder {
 public:
  AstBuilder(FileId file, const OffsetMap& offsets, DiagnosticSink& sink,
             const ParserOptions& options)
      : file_(file), offsets_(offsets), sink_(sink), options_(options) {}

  std::unique_ptr<ast::File> Build(WardenParser::FileContext* ctx) {
    auto out = std::make_unique<ast::File>();
    out->file = file_;
    out->package = QName(ctx->packageDecl()->qualifiedName());
    for (auto* import : ctx->importDecl()) {
      ast::ImportDecl decl;
      decl.package = QName(import->qualifiedName());
      if (import->name() != nullptr) decl.alias = Ident(import->name());
      decl.span = SpanOf(import);
      out->imports.push_back(std::move(decl));
    }
    for (auto* declaration : ctx->declaration()) {
      out->declarations.push_back(Decl(declaration));
    }
    return out;
  }

  size_t rule_count() const { return rule_count_; }
  bool too_deep() const { return too_deep_; }

 private:
  Span SpanOf(antlr4::Token* token) const {
    uint32_t begin = offsets_.ByteOffset(token->getStartIndex());
    uint32_t end = offsets_.ByteOffset(token->getStopIndex() + 1);
    return Span{file_, begin, end};
  }
  Span SpanOf(antlr4::tree::TerminalNode* node) const { return SpanOf(node->getSymbol()); }
  Span SpanOf(antlr4::ParserRuleContext* ctx) const {
    Span span = SpanOf(ctx->getStart());
    if (ctx->getStop() != nullptr && ctx->getStop()->getStopIndex() != INVALID_INDEX &&
        ctx->getStop()->getTokenIndex() >= ctx->getStart()->getTokenIndex()) {
      span.end = offsets_.ByteOffset(ctx->getStop()->getStopIndex() + 1);
    }
    return span;
  }

  static bool HasTerminal(antlr4::ParserRuleContext* ctx, std::string_view text) {
    for (auto* child : ctx->children) {
      if (auto* terminal = dynamic_cast<antlr4::tree::TerminalNode*>(child)) {
        if (terminal->getText() == text) return true;
      }
    }
    return false;
  }

  ast::Identifier Ident(WardenParser::NameContext* ctx) const {
    return ast::Identifier{ctx->getText(), SpanOf(ctx)};
  }
  std::vector<ast::Identifier> Idents(const std::vector<WardenParser::NameContext*>& names,
                                      size_t from = 0) const {
    std::vector<ast::Identifier> out;
    for (size_t i = from; i < names.size(); ++i) out.push_back(Ident(names[i]));
    return out;
  }
  ast::QualifiedName QName(WardenParser::QualifiedNameContext* ctx) const {
    ast::QualifiedName out;
    out.parts = Idents(ctx->name());
    out.span = SpanOf(ctx);
    return out;
  }

  // ---------------------------------------------------------------- literals

  std::string StringValue(antlr4::Token* token) {
    std::string text = token->getText();
    std::string body = text.size() >= 2 ? text.substr(1, text.size() - 2) : std::string();
    std::string out;
    size_t error_offset = 0;
    if (!UnescapeString(body, &out, &error_offset)) {
      Span span = SpanOf(token);
      span.begin += 1 + static_cast<uint32_t>(error_offset);
      span.end = std::min(span.end, span.begin + 2);
      sink_.Report(DiagCode::kInvalidLiteral, span, "invalid escape in string",
                   "use one of \\\" \\\\ \\n \\r \\t \\u{HEX}");
    }
    return out;
  }

  int64_t IntValue(antlr4::Token* token) {
    int64_t value = 0;
    if (!internal::ParseInt(token->getText(), &value)) {
      sink_.Report(DiagCode::kInvalidLiteral, SpanOf(token),
                   absl::StrCat("integer `", token->getText(), "` is out of range"),
                   "integers are signed 64-bit");
    }
    return value;
  }

  int64_t DecimalValue(antlr4::Token* token) {
    int64_t value = 0;
    if (values::Error e = values::ParseDecimal(token->getText(), &value);
        e != values::Error::kNone) {
      sink_.Report(DiagCode::kInvalidLiteral, SpanOf(token),
                   absl::StrCat("decimal `", token->getText(), "` ", values::ErrorText(e)),
                   absl::StrCat("decimals have at most ", ast::kDecimalDigits,
                                " fractional digits and 14 integer digits"));
    }
    return value;
  }

  int64_t DurationValue(antlr4::Token* token) {
    int64_t millis = 0;
    if (values::Error e = values::ParseDuration(token->getText(), &millis);
        e != values::Error::kNone) {
      sink_.Report(DiagCode::kInvalidLiteral, SpanOf(token),
                   absl::StrCat("duration `", token->getText(), "` ", values::ErrorText(e)));
    }
    return millis;
  }

  // ---------------------------------------------------------------- types

  std::unique_ptr<ast::TypeExpr> Type(WardenParser::TypeRefContext* ctx) {
    auto type = std::make_unique<ast::TypeExpr>();
    type->span = SpanOf(ctx);
    type->optional = ctx->optional != nullptr;
    auto* base = ctx->baseType();
    if (auto* set = dynamic_cast<WardenParser::SetTypeContext*>(base)) {
      type->kind = ast::TypeExpr::Kind::kSet;
      type->element = Type(set->typeRef());
    } else if (auto* enumeration = dynamic_cast<WardenParser::EnumTypeContext*>(base)) {
      type->kind = ast::TypeExpr::Kind::kEnum;
      type->members = Idents(enumeration->name());
    } else if (auto* record = dynamic_cast<WardenParser::RecordTypeContext*>(base)) {
      type->kind = ast::TypeExpr::Kind::kRecord;
      type->fields = Fields(record->recordBody());
    } else if (auto* named = dynamic_cast<WardenParser::NamedTypeContext*>(base)) {
      type->kind = ast::TypeExpr::Kind::kNamed;
      type->name = Ident(named->name());
    }
    return type;
  }

  std::vector<ast::FieldDecl> Fields(WardenParser::RecordBodyContext* ctx) {
    std::vector<ast::FieldDecl> fields;
    for (auto* field : ctx->fieldDecl()) {
      ast::FieldDecl decl;
      decl.name = Ident(field->name());
      decl.sensitive = field->SENSITIVE() != nullptr;
      decl.type = Type(field->typeRef());
      decl.span = SpanOf(field);
      fields.push_back(std::move(decl));
    }
    return fields;
  }

  // ---------------------------------------------------------------- expressions

  using ExprPtr = std::unique_ptr<ast::Expr>;

  ExprPtr Make(ast::ExprKind kind, antlr4::ParserRuleContext* ctx) {
    auto expr = std::make_unique<ast::Expr>();
    expr->kind = kind;
    expr->span = SpanOf(ctx);
    return expr;
  }

  ExprPtr Binary(ast::BinaryOp op, antlr4::ParserRuleContext* ctx, WardenParser::ExprContext* lhs,
                 WardenParser::ExprContext* rhs) {
    auto expr = Make(ast::ExprKind::kBinary, ctx);
    expr->op = op;
    expr->args.push_back(Expr(lhs));
    expr->args.push_back(Expr(rhs));
    return expr;
  }

  static ast::BinaryOp OpFromText(const std::string& text) {
    static const std::pair<const char*, ast::BinaryOp> kOps[] = {
        {"==", ast::BinaryOp::kEq}, {"!=", ast::BinaryOp::kNe}, {"<", ast::BinaryOp::kLt},
        {"<=", ast::BinaryOp::kLe}, {">", ast::BinaryOp::kGt},  {">=", ast::BinaryOp::kGe},
        {"+", ast::BinaryOp::kAdd}, {"-", ast::BinaryOp::kSub}, {"*", ast::BinaryOp::kMul},
        {"/", ast::BinaryOp::kDiv}, {"%", ast::BinaryOp::kMod},
    };
    for (const auto& [spelling, op] : kOps) {
      if (text == spelling) return op;
    }
    return ast::BinaryOp::kEq;
  }

  // Operator chains (`a and b and …`) nest the tree without nesting
  // brackets, so the tree depth is bounded here as well; every later pass
  // recurses over expressions and relies on this bound.
  ExprPtr Expr(WardenParser::ExprContext* ctx) {
    if (too_deep_) return Make(ast::ExprKind::kBool, ctx);
    if (++depth_ > MaxTreeDepth()) {
      too_deep_ = true;
      sink_.Report(
          DiagCode::kNestingTooDeep, SpanOf(ctx->getStart()),
          absl::StrCat("this expression nests more than ", MaxTreeDepth(), " operators deep"),
          "split long chains with `def` helpers");
      --depth_;
      return Make(ast::ExprKind::kBool, ctx);
    }
    ExprPtr out = ExprUnbounded(ctx);
    --depth_;
    return out;
  }

  int MaxTreeDepth() const { return options_.max_nesting_depth * 8; }

  ExprPtr ExprUnbounded(WardenParser::ExprContext* ctx) {
    using P = WardenParser;
    if (auto* c = dynamic_cast<P::PrimaryExprContext*>(ctx)) return Primary(c->primary());
    if (auto* c = dynamic_cast<P::MethodCallExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kMethodCall, ctx);
      expr->text = c->name()->getText();
      expr->text_span = SpanOf(c->name());
      expr->args.push_back(Expr(c->expr()));
      if (c->arguments() != nullptr) {
        for (auto* arg : c->arguments()->expr()) expr->args.push_back(Expr(arg));
      }
      return expr;
    }
    if (auto* c = dynamic_cast<P::MemberExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kMember, ctx);
      expr->text = c->name()->getText();
      expr->text_span = SpanOf(c->name());
      expr->args.push_back(Expr(c->expr()));
      return expr;
    }
    if (auto* c = dynamic_cast<P::NegateExprContext*>(ctx)) {
      // Fold `-literal` so that the most negative integer is writable.
      auto operand = Expr(c->expr());
      if (operand->kind == ast::ExprKind::kInt || operand->kind == ast::ExprKind::kDecimal ||
          operand->kind == ast::ExprKind::kDuration) {
        // Only a literal written right after the sign: `-(-5)` stays a negation.
        auto* primary = dynamic_cast<P::PrimaryExprContext*>(c->expr());
        if (primary != nullptr &&
            dynamic_cast<P::LiteralPrimaryContext*>(primary->primary()) != nullptr) {
          operand->int_value = -operand->int_value;
          operand->literal_text = "-" + operand->literal_text;
          operand->span = SpanOf(ctx);
          return operand;
        }
      }
      auto expr = Make(ast::ExprKind::kNegate, ctx);
      expr->args.push_back(std::move(operand));
      return expr;
    }
    if (auto* c = dynamic_cast<P::MultiplyExprContext*>(ctx)) {
      return Binary(OpFromText(c->op->getText()), ctx, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::AddExprContext*>(ctx)) {
      return Binary(OpFromText(c->op->getText()), ctx, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::CompareExprContext*>(ctx)) {
      return Binary(OpFromText(c->op->getText()), ctx, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::AndExprContext*>(ctx)) {
      return Binary(ast::BinaryOp::kAnd, ctx, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::OrExprContext*>(ctx)) {
      return Binary(ast::BinaryOp::kOr, ctx, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::InExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kIn, ctx);
      expr->negated = c->negated != nullptr;
      expr->args.push_back(Expr(c->expr(0)));
      expr->args.push_back(Expr(c->expr(1)));
      return expr;
    }
    if (auto* c = dynamic_cast<P::MatchesExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kMatches, ctx);
      expr->text = StringValue(c->STRING()->getSymbol());
      expr->text_span = SpanOf(c->STRING());
      expr->args.push_back(Expr(c->expr()));
      return expr;
    }
    if (auto* c = dynamic_cast<P::HasRoleExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kHasRole, ctx);
      expr->role = QName(c->qualifiedName());
      expr->args.push_back(Expr(c->expr()));
      return expr;
    }
    if (auto* c = dynamic_cast<P::HasAttrExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kHasAttr, ctx);
      expr->text = c->name()->getText();
      expr->text_span = SpanOf(c->name());
      expr->args.push_back(Expr(c->expr()));
      return expr;
    }
    if (auto* c = dynamic_cast<P::NotExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kNot, ctx);
      expr->args.push_back(Expr(c->expr()));
      return expr;
    }
    if (auto* c = dynamic_cast<P::QuantifierExprContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kQuantifier, ctx);
      expr->is_all = c->quantifier->getText() == "all";
      expr->text = c->name()->getText();
      expr->text_span = SpanOf(c->name());
      expr->args.push_back(Expr(c->expr(0)));
      expr->args.push_back(Expr(c->expr(1)));
      return expr;
    }
    return Make(ast::ExprKind::kBool, ctx);  // unreachable with a valid tree
  }

  ExprPtr Primary(WardenParser::PrimaryContext* ctx) {
    using P = WardenParser;
    if (auto* c = dynamic_cast<P::LiteralPrimaryContext*>(ctx)) return Literal(c->literal());
    if (auto* c = dynamic_cast<P::CallPrimaryContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kCall, ctx);
      expr->text = c->exprName()->getText();
      expr->text_span = SpanOf(c->exprName());
      if (c->arguments() != nullptr) {
        for (auto* arg : c->arguments()->expr()) expr->args.push_back(Expr(arg));
      }
      return expr;
    }
    if (auto* c = dynamic_cast<P::NamePrimaryContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kName, ctx);
      expr->text = c->exprName()->getText();
      expr->text_span = expr->span;
      return expr;
    }
    if (auto* c = dynamic_cast<P::ParenPrimaryContext*>(ctx)) {
      // Parentheses are not kept; the formatter re-derives them from precedence.
      return Expr(c->expr());
    }
    if (auto* c = dynamic_cast<P::SetPrimaryContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kSet, ctx);
      for (auto* element : c->expr()) expr->args.push_back(Expr(element));
      return expr;
    }
    return Make(ast::ExprKind::kBool, ctx);
  }

  ExprPtr Literal(WardenParser::LiteralContext* ctx) {
    using P = WardenParser;
    if (auto* c = dynamic_cast<P::StringLiteralContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kString, ctx);
      expr->text = StringValue(c->STRING()->getSymbol());
      return expr;
    }
    if (auto* c = dynamic_cast<P::IntLiteralContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kInt, ctx);
      expr->int_value = IntValue(c->INT()->getSymbol());
      expr->literal_text = c->getText();
      return expr;
    }
    if (auto* c = dynamic_cast<P::DecimalLiteralContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kDecimal, ctx);
      expr->int_value = DecimalValue(c->DECIMAL()->getSymbol());
      expr->literal_text = c->getText();
      return expr;
    }
    if (auto* c = dynamic_cast<P::DurationLiteralContext*>(ctx)) {
      auto expr = Make(ast::ExprKind::kDuration, ctx);
      expr->int_value = DurationValue(c->DURATION()->getSymbol());
      expr->literal_text = c->getText();
      return expr;
    }
    auto expr = Make(ast::ExprKind::kBool, ctx);
    expr->bool_value = dynamic_cast<P::TrueLiteralContext*>(ctx) != nullptr;
    return expr;
  }

  // ---------------------------------------------------------------- declarations

  ast::Declaration Decl(WardenParser::DeclarationContext* ctx) {
    using K = ast::Declaration::Kind;
    ast::Declaration decl;
    decl.kind = K::kSchema;
    decl.span = SpanOf(ctx);
    if (auto* c = ctx->schemaDecl()) {
      decl.kind = K::kSchema;
      decl.schema = Schema(c);
    } else if (auto* c = ctx->roleDecl()) {
      decl.kind = K::kRole;
      decl.role = std::make_unique<ast::RoleDecl>();
      decl.role->name = Ident(c->name(0));
      decl.role->extends = Idents(c->name(), 1);
    } else if (auto* c = ctx->separateDecl()) {
      decl.kind = K::kSeparate;
      decl.separate = std::make_unique<ast::SeparateDecl>();
      decl.separate->roles = Idents(c->name());
    } else if (auto* c = ctx->jitDecl()) {
      decl.kind = K::kJit;
      decl.jit = Jit(c);
    } else if (auto* c = ctx->riskDecl()) {
      decl.kind = K::kRisk;
      decl.risk = std::make_unique<ast::RiskDecl>();
      decl.risk->name = Ident(c->name());
      for (auto* factor : c->riskFactor()) {
        ast::RiskFactor out;
        out.points = IntValue(factor->INT()->getSymbol());
        if (factor->sign->getText() == "-") out.points = -out.points;
        out.condition = Expr(factor->expr());
        out.span = SpanOf(factor);
        decl.risk->factors.push_back(std::move(out));
      }
    } else if (auto* c = ctx->limitDecl()) {
      decl.kind = K::kLimit;
      decl.limit = std::make_unique<ast::LimitDecl>();
      decl.limit->name = Ident(c->name());
      decl.limit->count = IntValue(c->INT()->getSymbol());
      decl.limit->window_millis = DurationValue(c->DURATION()->getSymbol());
      decl.limit->window_text = c->DURATION()->getText();
      for (auto* key : c->expr()) decl.limit->keys.push_back(Expr(key));
    } else if (auto* c = ctx->dataDecl()) {
      decl.kind = K::kData;
      decl.data = std::make_unique<ast::DataDecl>();
      decl.data->name = Ident(c->name());
      decl.data->type = Type(c->typeRef());
    } else if (auto* c = ctx->constDecl()) {
      decl.kind = K::kConst;
      decl.constant = std::make_unique<ast::ConstDecl>();
      decl.constant->name = Ident(c->name());
      if (c->typeRef() != nullptr) decl.constant->type = Type(c->typeRef());
      decl.constant->value = Expr(c->expr());
    } else if (auto* c = ctx->defDecl()) {
      decl.kind = K::kDef;
      decl.def = std::make_unique<ast::DefDecl>();
      decl.def->name = Ident(c->name());
      decl.def->has_parens = HasTerminal(c, "(");
      for (auto* param : c->param()) {
        decl.def->params.push_back(ast::Param{Ident(param->name()), Type(param->typeRef())});
      }
      if (c->typeRef() != nullptr) decl.def->result_type = Type(c->typeRef());
      decl.def->body = Expr(c->expr());
    } else if (auto* c = ctx->challengeDecl()) {
      decl.kind = K::kChallenge;
      decl.challenge = std::make_unique<ast::ChallengeDecl>();
      decl.challenge->name = Ident(c->name());
    } else if (auto* c = ctx->policyDecl()) {
      decl.kind = K::kPolicy;
      decl.policy = Policy(c);
    } else if (auto* c = ctx->policySetDecl()) {
      decl.kind = K::kPolicySet;
      decl.policy_set = PolicySet(c);
    } else if (auto* c = ctx->testDecl()) {
      decl.kind = K::kTest;
      decl.test = Test(c);
    }
    return decl;
  }

  std::unique_ptr<ast::SchemaDecl> Schema(WardenParser::SchemaDeclContext* ctx) {
    using P = WardenParser;
    auto schema = std::make_unique<ast::SchemaDecl>();
    for (auto* member : ctx->schemaMember()) {
      ast::SchemaMember out;
      out.span = SpanOf(member);
      if (auto* c = dynamic_cast<P::SubjectSchemaContext*>(member)) {
        out.kind = ast::SchemaMember::Kind::kSubject;
        out.fields = Fields(c->recordBody());
      } else if (auto* c = dynamic_cast<P::ResourceSchemaContext*>(member)) {
        out.kind = ast::SchemaMember::Kind::kResource;
        out.resource_type = Ident(c->name());
        out.fields = Fields(c->recordBody());
      } else if (auto* c = dynamic_cast<P::ContextSchemaContext*>(member)) {
        out.kind = ast::SchemaMember::Kind::kContext;
        out.fields = Fields(c->recordBody());
      } else if (auto* c = dynamic_cast<P::ActionsSchemaContext*>(member)) {
        out.kind = ast::SchemaMember::Kind::kActions;
        for (auto* action : c->actionDecl()) {
          out.actions.push_back(
              ast::SchemaMember::Action{Ident(action->name()), action->SENSITIVE() != nullptr});
        }
      }
      schema->members.push_back(std::move(out));
    }
    return schema;
  }

  std::unique_ptr<ast::JitDecl> Jit(WardenParser::JitDeclContext* ctx) {
    using P = WardenParser;
    auto jit = std::make_unique<ast::JitDecl>();
    jit->name = Ident(ctx->name());
    for (auto* clause : ctx->jitClause()) {
      if (auto* c = dynamic_cast<P::JitGrantsContext*>(clause)) {
        jit->grants.push_back({Idents(c->name()), SpanOf(c)});
      } else if (auto* c = dynamic_cast<P::JitMaxContext*>(clause)) {
        jit->max.push_back(
            {DurationValue(c->DURATION()->getSymbol()), c->DURATION()->getText(), SpanOf(c)});
      } else if (auto* c = dynamic_cast<P::JitApprovalsContext*>(clause)) {
        jit->approvals.push_back({IntValue(c->INT()->getSymbol()), Ident(c->name()), SpanOf(c)});
      } else if (auto* c = dynamic_cast<P::JitRequiresContext*>(clause)) {
        jit->requires_.push_back({Idents(c->name()), SpanOf(c)});
      }
    }
    return jit;
  }

  std::unique_ptr<ast::PolicyDecl> Policy(WardenParser::PolicyDeclContext* ctx) {
    auto policy = std::make_unique<ast::PolicyDecl>();
    policy->span = SpanOf(ctx);
    policy->name = Ident(ctx->name(0));
    if (ctx->target->name() != nullptr) {
      policy->resource_type = Ident(ctx->target->name());
    } else {
      policy->any_resource = true;
      policy->resource_type = ast::Identifier{"*", SpanOf(ctx->target)};
    }
    if (ctx->algorithm != nullptr) policy->algorithm = Ident(ctx->algorithm);
    for (auto* rule : ctx->ruleDecl()) policy->rules.push_back(Rule(rule));
    return policy;
  }

  std::unique_ptr<ast::PolicySetDecl> PolicySet(WardenParser::PolicySetDeclContext* ctx) {
    using P = WardenParser;
    auto set = std::make_unique<ast::PolicySetDecl>();
    set->span = SpanOf(ctx);
    set->name = Ident(ctx->name(0));
    if (ctx->algorithm != nullptr) set->algorithm = Ident(ctx->algorithm);
    for (auto* member : ctx->policySetMember()) {
      ast::PolicySetMember out;
      out.span = SpanOf(member);
      if (auto* c = dynamic_cast<P::NestedPolicyContext*>(member)) {
        out.policy = Policy(c->policyDecl());
      } else if (auto* c = dynamic_cast<P::NestedPolicySetContext*>(member)) {
        out.set = PolicySet(c->policySetDecl());
      } else if (auto* c = dynamic_cast<P::UsePolicyContext*>(member)) {
        out.use = QName(c->qualifiedName());
      }
      set->members.push_back(std::move(out));
    }
    return set;
  }

  ast::RuleDecl Rule(WardenParser::RuleDeclContext* ctx) {
    using P = WardenParser;
    ++rule_count_;
    ast::RuleDecl rule;
    rule.span = SpanOf(ctx);
    rule.name = Ident(ctx->name());
    auto* effect = ctx->effect();
    rule.effect_span = SpanOf(effect);
    if (dynamic_cast<P::DenyEffectContext*>(effect) != nullptr) {
      rule.effect = ast::EffectKind::kDeny;
    } else if (auto* step_up = dynamic_cast<P::StepUpEffectContext*>(effect)) {
      rule.effect = ast::EffectKind::kStepUp;
      rule.challenge = Ident(step_up->name());
    }
    auto* actions = ctx->actionList();
    rule.actions_span = SpanOf(actions);
    if (dynamic_cast<P::AnyActionContext*>(actions) != nullptr) {
      rule.any_action = true;
    } else if (auto* one = dynamic_cast<P::OneActionContext*>(actions)) {
      rule.actions.push_back(Ident(one->name()));
    } else if (auto* set = dynamic_cast<P::ActionSetContext*>(actions)) {
      rule.action_set = true;
      rule.actions = Idents(set->name());
    }
    if (ctx->condition != nullptr) rule.condition = Expr(ctx->condition);
    if (ctx->reason != nullptr) {
      rule.reason = StringValue(ctx->reason);
      rule.reason_span = SpanOf(ctx->reason);
    }
    for (auto* extra : ctx->ruleExtra()) {
      ast::RuleExtra out;
      out.span = SpanOf(extra);
      out.is_obligation = extra->kind->getText() == "obligation";
      out.name = Ident(extra->name());
      out.has_braces = HasTerminal(extra, "{");
      for (auto* arg : extra->extraArg()) {
        out.args.push_back(ast::RuleExtra::Arg{Ident(arg->name()), Expr(arg->expr())});
      }
      rule.extras.push_back(std::move(out));
    }
    return rule;
  }

  std::unique_ptr<ast::TestDecl> Test(WardenParser::TestDeclContext* ctx) {
    using P = WardenParser;
    auto test = std::make_unique<ast::TestDecl>();
    test->span = SpanOf(ctx);
    test->name = StringValue(ctx->STRING()->getSymbol());
    test->name_span = SpanOf(ctx->STRING());
    test->given = Object(ctx->given);
    if (ctx->data != nullptr) test->data = Object(ctx->data);
    auto* expectation = ctx->expectation();
    test->expect_span = SpanOf(expectation);
    auto* outcome = expectation->outcome();
    if (dynamic_cast<P::ExpectDenyContext*>(outcome) != nullptr) {
      test->expect = ast::Outcome::kDeny;
    } else if (dynamic_cast<P::ExpectNotApplicableContext*>(outcome) != nullptr) {
      test->expect = ast::Outcome::kNotApplicable;
    } else if (auto* step_up = dynamic_cast<P::ExpectStepUpContext*>(outcome)) {
      test->expect = ast::Outcome::kStepUp;
      test->challenge = Ident(step_up->name());
    }
    test->by_rules = Idents(expectation->name());
    return test;
  }

  ast::JsonValue Object(WardenParser::JsonObjectContext* ctx) {
    ast::JsonValue value;
    value.kind = ast::JsonValue::Kind::kObject;
    value.span = SpanOf(ctx);
    for (auto* member : ctx->jsonMember()) {
      ast::JsonValue::Member out;
      if (member->name() != nullptr) {
        out.key = Ident(member->name());
      } else {
        out.key =
            ast::Identifier{StringValue(member->STRING()->getSymbol()), SpanOf(member->STRING())};
      }
      out.value = Json(member->jsonValue());
      value.members.push_back(std::move(out));
    }
    return value;
  }

  ast::JsonValue Json(WardenParser::JsonValueContext* ctx) {
    using Kind = ast::JsonValue::Kind;
    if (ctx->jsonObject() != nullptr) return Object(ctx->jsonObject());
    ast::JsonValue value;
    value.span = SpanOf(ctx);
    if (auto* array = ctx->jsonArray()) {
      value.kind = Kind::kArray;
      for (auto* item : array->jsonValue()) value.items.push_back(Json(item));
      return value;
    }
    if (ctx->STRING() != nullptr) {
      value.kind = Kind::kString;
      value.text = StringValue(ctx->STRING()->getSymbol());
      return value;
    }
    bool negative = ctx->getStart()->getText() == "-";
    if (ctx->INT() != nullptr) {
      value.kind = Kind::kInt;
      value.int_value = IntValue(ctx->INT()->getSymbol());
      if (negative) value.int_value = -value.int_value;
      value.text = ctx->getText();
      return value;
    }
    if (ctx->DECIMAL() != nullptr) {
      value.kind = Kind::kDecimal;
      value.int_value = DecimalValue(ctx->DECIMAL()->getSymbol());
      if (negative) value.int_value = -value.int_value;
      value.text = ctx->getText();
      return value;
    }
    std::string word = ctx->getText();
    if (word == "true" || word == "false") {
      value.kind = Kind::kBool;
      value.bool_value = word == "true";
    }
    return value;
  }

  FileId file_;
  const OffsetMap& offsets_;
  DiagnosticSink& sink_;
  const ParserOptions& options_;
  size_t rule_count_ = 0;
  int depth_ = 0;
  bool too_deep_ = false;
};

// Rejects bracket nesting deeper than the limit before ANTLR sees the tokens:
// its recursive descent and prediction would otherwise use stack in
// proportion to the nesting.
bool CheckBracketDepth(antlr4::CommonTokenStream& tokens, const OffsetMap& offsets, FileId file,
                       int max_depth, DiagnosticSink& sink) {
  int depth = 0;
  for (antlr4::Token* token : tokens.getTokens()) {
    std::string text = token->getType() == antlr4::Token::EOF ? "" : token->getText();
    if (text == "(" || text == "[" || text == "{") {
      if (++depth > max_depth) {
        uint32_t begin = offsets.ByteOffset(token->getStartIndex());
        sink.Report(DiagCode::kNestingTooDeep, Span{file, begin, begin + 1},
                    absl::StrCat("brackets nest deeper than ", max_depth, " levels"),
                    "split the expression with `def` helpers");
        return false;
      }
    } else if (text == ")" || text == "]" || text == "}") {
      if (depth > 0) --depth;
    }
  }
  return true;
}

// Warns about invisible and text-direction characters anywhere in the file,
// comments and strings included, since that is where they hide.
void ReportInvisibleCharacters(FileId file, const std::string& text, DiagnosticSink& sink) {
  for (uint32_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    uint32_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
    uint32_t code_point = length == 1 ? byte : byte & (0x7F >> length);
    for (uint32_t k = 1; k < length && i + k < text.size(); ++k) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    if (length > 1 && internal::IsInvisibleCodePoint(code_point)) {
      sink.Report(DiagCode::kInvisibleCharacter, Span{file, i, i + length},
                  absl::StrFormat("invisible character U+%04X", code_point),
                  "it can make the policy read differently from how it runs; write it as an "
                  "escape in a string (\\u{...}) or remove it");
    }
    i += length;
  }
}

}  // namespace

bool UnescapeString(std::string_view body, std::string* out, size_t* error_offset) {
  out->clear();
  out->reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (i + 1 >= body.size()) {
      *error_offset = i;
      return false;
    }
    char next = body[++i];
    switch (next) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        // \u{1F600}
        size_t close = body.find('}', i);
        if (i + 1 >= body.size() || body[i + 1] != '{' || close == std::string_view::npos ||
            close - i - 2 == 0 || close - i - 2 > 6) {
          *error_offset = i - 1;
          return false;
        }
        uint32_t code_point = 0;
        for (size_t j = i + 2; j < close; ++j) {
          int digit =
              absl::ascii_isxdigit(static_cast<unsigned char>(body[j]))
                  ? (absl::ascii_isdigit(static_cast<unsigned char>(body[j]))
                         ? body[j] - '0'
                         : absl::ascii_tolower(static_cast<unsigned char>(body[j])) - 'a' + 10)
                  : -1;
          if (digit < 0) {
            *error_offset = i - 1;
            return false;
          }
          code_point = code_point * 16 + static_cast<uint32_t>(digit);
        }
        if (!internal::AppendUtf8(code_point, out)) {
          *error_offset = i - 1;
          return false;
        }
        i = close;
        break;
      }
      default:
        *error_offset = i - 1;
        return false;
    }
  }
  return true;
}

std::unique_ptr<ast::File> ParseFile(const SourceManager& sources, FileId file_id,
                                     DiagnosticSink& sink, const ParserOptions& options) {
  const SourceFile& file = sources.file(file_id);
  const std::string& text = file.text();
  if (text.size() > options.max_file_bytes) {
    sink.Report(
        DiagCode::kFileTooLarge, Span{file_id, 0, 0},
        absl::StrCat("file is ", text.size(), " bytes; the limit is ", options.max_file_bytes),
        "split the policies into several files");
    return nullptr;
  }
  if (size_t bad = internal::FindInvalidUtf8(text); bad != std::string::npos) {
    sink.Report(DiagCode::kInvalidUtf8,
                Span{file_id, static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)},
                "invalid UTF-8 byte sequence", "save the file as UTF-8");
    return nullptr;
  }
  ReportInvisibleCharacters(file_id, text, sink);
  OffsetMap offsets(text);
  try {
    antlr4::ANTLRInputStream input(text);
    WardenLexer lexer(&input);
    lexer.removeErrorListeners();
    DiagnosticListener listener(file_id, offsets, sink, options.max_syntax_errors);
    lexer.addErrorListener(&listener);
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    if (!CheckBracketDepth(tokens, offsets, file_id, options.max_nesting_depth, sink)) {
      return nullptr;
    }

    WardenParser parser(&tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    // Each level of nesting costs at most a few rule frames; the constant
    // covers the declaration levels above the outermost expression.
    DepthGuard depth_guard(static_cast<size_t>(options.max_nesting_depth) * 4 + 32);
    parser.addParseListener(&depth_guard);
    WardenParser::FileContext* tree = nullptr;
    try {
      tree = parser.file();
    } catch (const StopParsing&) {
      if (depth_guard.exceeded_at() != nullptr) {
        uint32_t begin = offsets.ByteOffset(depth_guard.exceeded_at()->getStartIndex());
        sink.Report(
            DiagCode::kNestingTooDeep, Span{file_id, begin, begin + 1},
            absl::StrCat("expressions nest deeper than ", options.max_nesting_depth, " levels"),
            "split the expression with `def` helpers");
      }
      return nullptr;
    }
    if (listener.errors() > 0 || parser.getNumberOfSyntaxErrors() > 0) return nullptr;

    AstBuilder builder(file_id, offsets, sink, options);
    auto result = builder.Build(tree);
    if (builder.too_deep()) return nullptr;
    if (builder.rule_count() > options.max_rules_per_file) {
      sink.Report(DiagCode::kLimitExceeded, Span{file_id, 0, 0},
                  absl::StrCat("file declares ", builder.rule_count(), " rules; the limit is ",
                               options.max_rules_per_file));
      return nullptr;
    }
    for (antlr4::Token* token : tokens.getTokens()) {
      if (token->getType() != WardenLexer::LINE_COMMENT &&
          token->getType() != WardenLexer::BLOCK_COMMENT) {
        continue;
      }
      ast::Comment comment;
      comment.text = token->getText();
      comment.span = Span{file_id, offsets.ByteOffset(token->getStartIndex()),
                          offsets.ByteOffset(token->getStopIndex() + 1)};
      uint32_t i = comment.span.begin;
      while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
      comment.own_line = i == 0 || text[i - 1] == '\n';
      result->comments.push_back(std::move(comment));
    }
    return result;
  } catch (const StopParsing&) {
    return nullptr;
  } catch (const std::exception& e) {
    sink.Report(DiagCode::kSyntaxError, Span{file_id, 0, 0},
                absl::StrCat("the parser failed: ", e.what()));
    return nullptr;
  } catch (...) {
    sink.Report(DiagCode::kSyntaxError, Span{file_id, 0, 0}, "the parser failed");
    return nullptr;
  }
}

}  // namespace warden
