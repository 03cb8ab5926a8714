// `warden fmt`: the canonical layout of a Warden file.
//
// How comments survive formatting
// ===============================
// The parser keeps no layout, only the AST (with a byte Span on every node)
// and the list of comments (with spans and an `own_line` flag). Formatting
// happens in two steps:
//
//  1. Layout (this file) walks the AST and produces a list of lines
//     (internal/format_lines.h). Every line records the source range of the
//     AST tokens it prints: from the first token the AST locates to the end of
//     the last one. Keywords and punctuation the AST does not locate (`{`,
//     `because`, the `and` that starts a continuation line) fall in the gaps
//     between ranges, which is harmless. Line breaking depends only on the AST
//     (and on where comments are, below), never on the original layout.
//
//  2. Rendering (internal/format_lines.cc) gives every comment exactly one
//     home, by comparing its position with the line ranges:
//       * inside a line's range: a block comment with code before it on its
//         source line trails the line; a line comment, or a comment alone on
//         its line, moves up to stand above the line (a `//` comment cannot
//         stay in the middle of code);
//       * between two lines, on the source line where the earlier line's last
//         token ends (or chained after such a comment): trails that line;
//       * any other comment between two lines: leads the later line, printed
//         above it at its indentation. Before a closing `}` that means "at the
//         end of the block", indented like the block's contents; after the
//         last line, "at the end of the file".
//     Leading comments that shared a source line stay on one line, and a
//     blank line around a group of leading comments is kept (one at most)
//     when the group stands before a block-level item such as a declaration,
//     rule, field or clause. Trailing comments on consecutive lines are
//     aligned in one column.
//
// Why this is idempotent: a comment is printed either on its own line just
// above the line it leads, or at the end of the line it trails. Parsed again,
// the first kind sits in the gap before that line and not on the line where
// the previous line ends, so it leads the same line again; the second kind
// sits after the line's last token on the same source line, so it trails the
// same line again. Blank lines around comment groups are read back from the
// output. Layout decisions that look at comments (keep an empty block open
// when a comment is inside it, break a JSON value that contains a comment,
// wrap an `and`/`or` chain that has a comment between two of its operands)
// are stable because those comments stay inside the same span after
// formatting.
#include "compiler/formatter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compiler/internal/format_expr.h"
#include "compiler/internal/format_lines.h"

namespace warden {
namespace {

using internal::FormatExpr;
using internal::FormatLine;
using internal::QuoteString;

// Continuation lines of a rule (wrapped condition, `because`, obligations)
// are indented this much more than the rule.
constexpr int kContinuationIndent = 4;

using internal::JoinNames;

class Layout {
 public:
  Layout(const ast::File& file, const FormatOptions& options) : file_(file), options_(options) {
    for (const ast::Comment& comment : file.comments) comment_starts_.push_back(comment.span.begin);
    std::sort(comment_starts_.begin(), comment_starts_.end());
  }

  std::vector<FormatLine> Run() {
    Add(0, absl::StrCat("package ", file_.package.ToString()), file_.package.span.begin,
        file_.package.span.end)
        .item = true;
    for (size_t i = 0; i < file_.imports.size(); ++i) {
      const ast::ImportDecl& import = file_.imports[i];
      std::string text = absl::StrCat("import ", import.package.ToString());
      if (import.alias) absl::StrAppend(&text, " as ", import.alias->text);
      FormatLine& line = Add(0, std::move(text), import.span.begin, import.span.end);
      line.item = true;
      line.blank_before = i == 0;
    }
    Sequence(
        file_.declarations.size(),
        [this](size_t i) {
          Declaration(0, file_.declarations[i]);
          return static_cast<int>(file_.declarations[i].kind);
        },
        /*blank_before_first=*/true);
    return std::move(lines_);
  }

 private:
  int step() const { return options_.indent; }

  FormatLine& Add(int indent, std::string text, uint32_t begin, uint32_t end) {
    FormatLine line;
    line.indent = indent;
    line.text = std::move(text);
    line.begin = begin;
    line.end = std::max(begin, end);
    lines_.push_back(std::move(line));
    return lines_.back();
  }
  FormatLine& Item(int indent, std::string text, uint32_t begin, uint32_t end) {
    FormatLine& line = Add(indent, std::move(text), begin, end);
    line.item = true;
    return line;
  }
  void Open(int indent, const std::string& text, uint32_t begin, uint32_t end) {
    FormatLine& line = Add(indent, absl::StrCat(text, " {"), begin, end);
    line.item = true;
    line.opens_block = true;
  }
  void Close(int indent, std::string text, uint32_t block_end, bool item = true) {
    uint32_t begin = block_end > 0 ? block_end - 1 : 0;
    FormatLine& line = Add(indent, std::move(text), begin, block_end);
    line.item = item;
    line.closes_block = true;
  }

  bool Fits(int indent, const std::string& text) const {
    return static_cast<size_t>(indent) + internal::DisplayWidth(text) <=
           static_cast<size_t>(options_.max_line_width);
  }
  bool CommentWithin(uint32_t begin, uint32_t end) const {
    auto it = std::lower_bound(comment_starts_.begin(), comment_starts_.end(), begin);
    return it != comment_starts_.end() && *it < end;
  }

  // Emits `count` items; a blank line separates two items of different kinds
  // (as returned by `emit`) or when either of them takes more than one line.
  template <typename EmitFn>
  void Sequence(size_t count, EmitFn emit, bool blank_before_first = false) {
    int previous_kind = -1;
    bool previous_multi = false;
    for (size_t i = 0; i < count; ++i) {
      size_t first = lines_.size();
      int kind = emit(i);
      bool multi = lines_.size() - first > 1;
      if (first < lines_.size()) {
        lines_[first].blank_before =
            i == 0 ? blank_before_first : kind != previous_kind || multi || previous_multi;
      }
      previous_kind = kind;
      previous_multi = multi;
    }
  }

  // ---------------------------------------------------------------- declarations

  void Declaration(int indent, const ast::Declaration& decl) {
    using K = ast::Declaration::Kind;
    uint32_t begin = decl.span.begin;
    uint32_t end = decl.span.end;
    switch (decl.kind) {
      case K::kSchema:
        if (decl.schema) Schema(indent, *decl.schema, begin, end);
        return;
      case K::kRole:
        if (decl.role) {
          std::string text = absl::StrCat("role ", decl.role->name.text);
          if (!decl.role->extends.empty()) {
            absl::StrAppend(&text, " extends ", JoinNames(decl.role->extends));
          }
          Item(indent, std::move(text), begin, end);
        }
        return;
      case K::kSeparate:
        if (decl.separate) {
          Item(indent, absl::StrCat("separate ", JoinNames(decl.separate->roles)), begin, end);
        }
        return;
      case K::kJit:
        if (decl.jit) Jit(indent, *decl.jit, begin, end);
        return;
      case K::kRisk:
        if (decl.risk) Risk(indent, *decl.risk, begin, end);
        return;
      case K::kLimit:
        if (decl.limit) Limit(indent, *decl.limit, begin, end);
        return;
      case K::kData:
        if (decl.data) {
          TypedItem(indent, absl::StrCat("data ", decl.data->name.text, ":"), begin,
                    decl.data->name.span.end, decl.data->type.get(), end);
        }
        return;
      case K::kConst:
        if (decl.constant) Const(indent, *decl.constant, begin, end);
        return;
      case K::kDef:
        if (decl.def) Def(indent, *decl.def, begin, end);
        return;
      case K::kChallenge:
        if (decl.challenge) {
          Item(indent, absl::StrCat("challenge ", decl.challenge->name.text), begin, end);
        }
        return;
      case K::kPolicy:
        if (decl.policy) Policy(indent, *decl.policy);
        return;
      case K::kPolicySet:
        if (decl.policy_set) PolicySet(indent, *decl.policy_set);
        return;
      case K::kTest:
        if (decl.test) Test(indent, *decl.test);
        return;
    }
  }

  // ---------------------------------------------------------------- schema and types

  void Schema(int indent, const ast::SchemaDecl& schema, uint32_t begin, uint32_t end) {
    uint32_t header_end = begin + static_cast<uint32_t>(sizeof("schema") - 1);
    if (schema.members.empty() && !CommentWithin(header_end, end)) {
      Item(indent, "schema {}", begin, end);
      return;
    }
    Open(indent, "schema", begin, header_end);
    for (const ast::SchemaMember& member : schema.members) {
      SchemaMember(indent + step(), member);
    }
    Close(indent, "}", end);
  }

  void SchemaMember(int indent, const ast::SchemaMember& member) {
    using K = ast::SchemaMember::Kind;
    uint32_t begin = member.span.begin;
    uint32_t end = member.span.end;
    switch (member.kind) {
      case K::kActions: {
        std::string text = "actions {";
        for (size_t i = 0; i < member.actions.size(); ++i) {
          const auto& action = member.actions[i];
          absl::StrAppend(&text, i == 0 ? " " : ", ", action.sensitive ? "sensitive " : "",
                          action.name.text);
        }
        Item(indent, absl::StrCat(text, " }"), begin, end);
        return;
      }
      case K::kSubject:
        Record(indent, "subject", begin, begin + static_cast<uint32_t>(sizeof("subject") - 1),
               member.fields, end, "");
        return;
      case K::kContext:
        Record(indent, "context", begin, begin + static_cast<uint32_t>(sizeof("context") - 1),
               member.fields, end, "");
        return;
      case K::kResource:
        Record(indent, absl::StrCat("resource ", member.resource_type.text), begin,
               member.resource_type.span.end, member.fields, end, "");
        return;
    }
  }

  // `header { fields }` with one field per line; `header {}` when empty.
  void Record(int indent, const std::string& header, uint32_t begin, uint32_t header_end,
              const std::vector<ast::FieldDecl>& fields, uint32_t end, const char* suffix) {
    if (fields.empty() && !CommentWithin(header_end, end)) {
      Item(indent, absl::StrCat(header, " {}", suffix), begin, end);
      return;
    }
    Open(indent, header, begin, header_end);
    for (const ast::FieldDecl& field : fields) {
      TypedItem(indent + step(),
                absl::StrCat(field.sensitive ? "sensitive " : "", field.name.text, ":"),
                field.span.begin, field.name.span.end, field.type.get(), field.span.end);
    }
    Close(indent, absl::StrCat("}", suffix), end);
  }

  // `prefix type`, where a record type is laid out as a block.
  void TypedItem(int indent, const std::string& prefix, uint32_t begin, uint32_t prefix_end,
                 const ast::TypeExpr* type, uint32_t end) {
    if (type != nullptr && type->kind == ast::TypeExpr::Kind::kRecord) {
      Record(indent, prefix, begin, prefix_end, type->fields, type->span.end,
             type->optional ? "?" : "");
      return;
    }
    Item(indent, absl::StrCat(prefix, " ", type ? internal::FormatType(*type) : ""), begin, end);
  }

  // ---------------------------------------------------------------- jit, risk, limit, const, def

  void Jit(int indent, const ast::JitDecl& jit, uint32_t begin, uint32_t end) {
    std::vector<std::pair<Span, std::string>> clauses = internal::JitClauses(jit);
    std::string header = absl::StrCat("jit ", jit.name.text);
    if (clauses.empty() && !CommentWithin(jit.name.span.end, end)) {
      Item(indent, absl::StrCat(header, " {}"), begin, end);
      return;
    }
    Open(indent, header, begin, jit.name.span.end);
    for (auto& [span, text] : clauses) Item(indent + step(), std::move(text), span.begin, span.end);
    Close(indent, "}", end);
  }

  void Risk(int indent, const ast::RiskDecl& risk, uint32_t begin, uint32_t end) {
    std::string header = absl::StrCat("risk ", risk.name.text);
    if (risk.factors.empty() && !CommentWithin(risk.name.span.end, end)) {
      Item(indent, absl::StrCat(header, " {}"), begin, end);
      return;
    }
    Open(indent, header, begin, risk.name.span.end);
    for (const ast::RiskFactor& factor : risk.factors) {
      // Print the magnitude without negating INT64_MIN.
      uint64_t magnitude = factor.points < 0 ? 0 - static_cast<uint64_t>(factor.points)
                                             : static_cast<uint64_t>(factor.points);
      std::string prefix = absl::StrCat(factor.points < 0 ? "-" : "+", magnitude, " if ");
      size_t first = lines_.size();
      if (factor.condition) {
        Condition(indent + step(), prefix, factor.span.begin, *factor.condition,
                  indent + step() + kContinuationIndent);
      } else {
        Add(indent + step(), prefix, factor.span.begin, factor.span.end);
      }
      lines_[first].item = true;
    }
    Close(indent, "}", end);
  }

  void Limit(int indent, const ast::LimitDecl& limit, uint32_t begin, uint32_t end) {
    std::string text = absl::StrCat("limit ", limit.name.text, ": ", limit.count, " per ",
                                    limit.window_text, " by ");
    for (size_t i = 0; i < limit.keys.size(); ++i) {
      absl::StrAppend(&text, i == 0 ? "" : ", ", FormatExpr(*limit.keys[i]));
    }
    Item(indent, std::move(text), begin, end);
  }

  void Const(int indent, const ast::ConstDecl& constant, uint32_t begin, uint32_t end) {
    std::string text = absl::StrCat("const ", constant.name.text);
    if (constant.type) absl::StrAppend(&text, ": ", internal::FormatType(*constant.type));
    absl::StrAppend(&text, " = ", constant.value ? FormatExpr(*constant.value) : "");
    Item(indent, std::move(text), begin, end);
  }

  void Def(int indent, const ast::DefDecl& def, uint32_t begin, uint32_t end) {
    std::string signature = absl::StrCat("def ", def.name.text);
    uint32_t signature_end = def.name.span.end;
    if (def.has_parens) {
      signature += "(";
      for (size_t i = 0; i < def.params.size(); ++i) {
        const ast::Param& param = def.params[i];
        absl::StrAppend(&signature, i == 0 ? "" : ", ", param.name.text, ": ",
                        param.type ? internal::FormatType(*param.type) : "");
        if (param.type) signature_end = std::max(signature_end, param.type->span.end);
      }
      signature += ")";
    }
    if (def.result_type) {
      absl::StrAppend(&signature, ": ", internal::FormatType(*def.result_type));
      signature_end = std::max(signature_end, def.result_type->span.end);
    }
    signature += " =";
    if (!def.body) {
      Item(indent, std::move(signature), begin, end);
      return;
    }
    std::string one_line = absl::StrCat(signature, " ", FormatExpr(*def.body));
    if (Fits(indent, one_line) && !GapComment(internal::SplitBoolChain(*def.body))) {
      Item(indent, std::move(one_line), begin, end);
      return;
    }
    // Too long: the body goes below, and a chain of `and`/`or` puts each
    // operand on its own line, the operator first.
    Item(indent, std::move(signature), begin, signature_end);
    Condition(indent + step(), "", def.body->span.begin, *def.body, indent + step());
  }

  // ---------------------------------------------------------------- conditions

  // Whether a comment lies between two operands of the chain.
  bool GapComment(const internal::BoolChain& chain) const {
    for (size_t i = 0; i + 1 < chain.operands.size(); ++i) {
      if (CommentWithin(chain.operands[i]->span.end, chain.operands[i + 1]->span.begin)) {
        return true;
      }
    }
    return false;
  }

  // `prefix expr suffix` on one line when it fits; otherwise a top-level
  // `and`/`or` chain is broken before each operator, continuation lines at
  // `continuation` columns. An operand that is itself a chain (an `and` chain
  // inside an `or` chain, or a parenthesized one) breaks the same way when it
  // is too long, four columns deeper. `begin` is where the line's first token
  // is; `suffix` closes parentheses opened by an enclosing chain.
  void Condition(int indent, const std::string& prefix, uint32_t begin, const ast::Expr& expr,
                 int continuation, const std::string& suffix = "") {
    std::string text = absl::StrCat(prefix, FormatExpr(expr), suffix);
    internal::BoolChain chain = internal::SplitBoolChain(expr);
    if (chain.operands.size() < 2 || (Fits(indent, text) && !GapComment(chain))) {
      Add(indent, std::move(text), begin, expr.span.end);
      return;
    }
    int precedence = internal::ExprPrecedence(expr);
    const char* op = ast::BinaryOpText(chain.op);
    for (size_t i = 0; i < chain.operands.size(); ++i) {
      const ast::Expr& operand = *chain.operands[i];
      bool last = i + 1 == chain.operands.size();
      int line_indent = i == 0 ? indent : continuation;
      std::string line_prefix = i == 0 ? prefix : absl::StrCat(op, " ");
      std::string line_suffix = last ? suffix : "";
      uint32_t line_begin = i == 0 ? begin : operand.span.begin;
      if (!internal::SplitBoolChain(operand).operands.empty()) {
        int operand_precedence = internal::ExprPrecedence(operand);
        bool parens =
            operand_precedence < precedence || (i > 0 && operand_precedence == precedence);
        if (parens) {
          line_prefix += "(";
          line_suffix = absl::StrCat(")", line_suffix);
        }
        Condition(line_indent, line_prefix, line_begin, operand, continuation + kContinuationIndent,
                  line_suffix);
      } else {
        Add(line_indent,
            absl::StrCat(line_prefix, internal::FormatOperand(operand, precedence, i > 0),
                         line_suffix),
            line_begin, operand.span.end);
      }
    }
  }

  // ---------------------------------------------------------------- policies

  void Policy(int indent, const ast::PolicyDecl& policy) {
    std::string header =
        absl::StrCat("policy ", policy.name.text, " on ", policy.resource_type.text);
    uint32_t header_end = policy.resource_type.span.end;
    if (policy.algorithm) {
      absl::StrAppend(&header, " combine ", policy.algorithm->text);
      header_end = policy.algorithm->span.end;
    }
    if (policy.rules.empty() && !CommentWithin(header_end, policy.span.end)) {
      Item(indent, absl::StrCat(header, " {}"), policy.span.begin, policy.span.end);
      return;
    }
    Open(indent, header, policy.span.begin, header_end);
    Sequence(policy.rules.size(), [&](size_t i) {
      Rule(indent + step(), policy.rules[i]);
      return 0;
    });
    Close(indent, "}", policy.span.end);
  }

  void Rule(int indent, const ast::RuleDecl& rule) {
    std::string head = absl::StrCat("rule ", rule.name.text, ": ", internal::EffectText(rule), " ",
                                    internal::ActionsText(rule));
    size_t first = lines_.size();
    int continuation = indent + kContinuationIndent;
    if (rule.condition) {
      Condition(indent, absl::StrCat(head, " if "), rule.span.begin, *rule.condition, continuation);
    } else {
      Add(indent, std::move(head), rule.span.begin, rule.actions_span.end);
    }
    lines_[first].item = true;
    if (rule.reason) {
      Add(continuation, absl::StrCat("because ", QuoteString(*rule.reason)), rule.reason_span.begin,
          rule.reason_span.end);
    }
    for (const ast::RuleExtra& extra : rule.extras) {
      std::string text =
          absl::StrCat(extra.is_obligation ? "obligation " : "advice ", extra.name.text);
      if (!extra.args.empty()) {
        text += " {";
        for (size_t i = 0; i < extra.args.size(); ++i) {
          const auto& arg = extra.args[i];
          absl::StrAppend(&text, i == 0 ? " " : ", ", arg.key.text, ": ",
                          arg.value ? FormatExpr(*arg.value) : "");
        }
        text += " }";
      } else if (extra.has_braces) {
        text += " {}";
      }
      Add(continuation, std::move(text), extra.span.begin, extra.span.end);
    }
  }

  void PolicySet(int indent, const ast::PolicySetDecl& set) {
    std::string header = absl::StrCat("policyset ", set.name.text);
    uint32_t header_end = set.name.span.end;
    if (set.algorithm) {
      absl::StrAppend(&header, " combine ", set.algorithm->text);
      header_end = set.algorithm->span.end;
    }
    if (set.members.empty() && !CommentWithin(header_end, set.span.end)) {
      Item(indent, absl::StrCat(header, " {}"), set.span.begin, set.span.end);
      return;
    }
    Open(indent, header, set.span.begin, header_end);
    Sequence(set.members.size(), [&](size_t i) {
      const ast::PolicySetMember& member = set.members[i];
      if (member.policy) {
        Policy(indent + step(), *member.policy);
        return 0;
      }
      if (member.set) {
        PolicySet(indent + step(), *member.set);
        return 1;
      }
      Item(indent + step(), absl::StrCat("use ", member.use ? member.use->ToString() : ""),
           member.span.begin, member.span.end);
      return 2;
    });
    Close(indent, "}", set.span.end);
  }

  // ---------------------------------------------------------------- tests

  void Test(int indent, const ast::TestDecl& test) {
    Open(indent, absl::StrCat("test ", QuoteString(test.name)), test.span.begin,
         test.name_span.end);
    int inner = indent + step();
    Json(inner, "given ", "", test.given, test.given.span.begin);
    if (test.data) Json(inner, "data ", "", *test.data, test.data->span.begin);
    std::string expect = internal::ExpectText(test);
    Add(inner, std::move(expect), test.expect_span.begin, test.expect_span.end);
    Close(indent, "}", test.span.end);
  }

  // `prefix value suffix` on one line when it fits and holds no comment;
  // otherwise one member or element per line.
  void Json(int indent, const std::string& prefix, const char* suffix, const ast::JsonValue& value,
            uint32_t begin) {
    using Kind = ast::JsonValue::Kind;
    std::string one_line = absl::StrCat(prefix, internal::FormatJsonInline(value), suffix);
    bool container = value.kind == Kind::kObject || value.kind == Kind::kArray;
    if (!container ||
        (Fits(indent, one_line) && !CommentWithin(value.span.begin, value.span.end))) {
      Add(indent, std::move(one_line), begin, value.span.end);
      return;
    }
    bool object = value.kind == Kind::kObject;
    FormatLine& open =
        Add(indent, absl::StrCat(prefix, object ? "{" : "["), begin, value.span.begin + 1);
    open.opens_block = true;
    size_t count = object ? value.members.size() : value.items.size();
    for (size_t i = 0; i < count; ++i) {
      const char* comma = i + 1 < count ? "," : "";
      if (object) {
        const auto& member = value.members[i];
        Json(indent + step(), absl::StrCat(internal::FormatJsonKey(member.key), ": "), comma,
             member.value, member.key.span.begin);
      } else {
        Json(indent + step(), "", comma, value.items[i], value.items[i].span.begin);
      }
    }
    Close(indent, absl::StrCat(object ? "}" : "]", suffix), value.span.end, /*item=*/false);
  }

  const ast::File& file_;
  const FormatOptions& options_;
  std::vector<uint32_t> comment_starts_;
  std::vector<FormatLine> lines_;
};

}  // namespace

std::string FormatFile(const ast::File& file, const SourceFile& source,
                       const FormatOptions& options) {
  std::vector<FormatLine> lines = Layout(file, options).Run();
  return internal::RenderLines(lines, file.comments, source, options.indent);
}

}  // namespace warden
