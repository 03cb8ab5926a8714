// Bundles: round trip, and every kind of corruption gives a clean error.
#include "runtime/bytecode/bundle.h"

#include <doctest/doctest.h>

#include <string>

#include "compiler/driver.h"
#include "runtime/bytecode/disasm.h"

namespace warden {
namespace {

bc::Program Compile(const std::string& text, const BuildOptions& options = {}) {
  BundleBuild build = CompileToBundle(PolicySources::Texts({{"b.warden", text}}), options);
  REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
  return *std::move(build.program);
}

const char* kSmall = R"(package t
schema { resource doc { owner: string  level: int } actions { read } }
role reader
policy p on doc {
  rule r: permit read if subject has role reader and resource.owner == subject.id and resource.level < 3
    because "ok"
}
)";

bc::Program Examples() {
  BundleBuild build =
      CompileToBundle(PolicySources::Paths({std::string(WARDEN_SOURCE_DIR) + "/examples"}));
  REQUIRE_MESSAGE(build.program.ok(), build.program.status().ToString());
  return *std::move(build.program);
}

TEST_CASE("round trip: the same program, the same bytes, a stable hash") {
  bc::Program program = Examples();
  std::string bytes = bc::WriteBundle(program);
  std::string hash;
  auto loaded = bc::ReadBundle(bytes, {}, &hash);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().ToString());
  CHECK(bc::WriteBundle(*loaded) == bytes);
  CHECK(bc::Disassemble(*loaded) == bc::Disassemble(program));
  CHECK(hash == bc::Sha256Hex(std::string_view(bytes).substr(bc::kBundleHeaderSize)));
}

TEST_CASE("truncation at every length is a clean error") {
  std::string bytes = bc::WriteBundle(Compile(kSmall));
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto loaded = bc::ReadBundle(std::string_view(bytes).substr(0, n));
    CHECK_MESSAGE(!loaded.ok(), n);
  }
}

TEST_CASE("every flipped byte is detected") {
  std::string bytes = bc::WriteBundle(Compile(kSmall));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ 0x5a);
    CHECK_MESSAGE(!bc::ReadBundle(copy).ok(), i);
  }
}

TEST_CASE("header errors name the problem") {
  std::string bytes = bc::WriteBundle(Compile(kSmall));
  std::string bad = bytes;
  bad[0] = 'X';
  CHECK(bc::ReadBundle(bad).status().message().find("magic") != std::string_view::npos);
  bad = bytes;
  bad[4] = 9;
  CHECK(bc::ReadBundle(bad).status().message().find("version") != std::string_view::npos);
  bad = bytes;
  bad[bytes.size() - 1] ^= 1;
  CHECK(bc::ReadBundle(bad).status().message().find("checksum") != std::string_view::npos);
  bad = bytes + "x";
  CHECK(bc::ReadBundle(bad).status().message().find("size") != std::string_view::npos);
  bc::ProgramLimits limits;
  limits.max_bundle_bytes = 10;
  CHECK(bc::ReadBundle(bytes, limits).status().code() == absl::StatusCode::kResourceExhausted);
}

// Hostile content that passes the checksum: the verifier must catch it.
TEST_CASE("re-checksummed hostile programs are rejected by the verifier") {
  const bc::Program good = Compile(kSmall);
  REQUIRE(bc::Verify(good).ok());
  REQUIRE(!good.code.empty());
  // Each case is rejected for its own reason: the message names it (a
  // rejection for another reason would hide a verifier gap).
  auto expect_rejected = [](bc::Program p, const char* what, const char* reason,
                            absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
    std::string bytes = bc::WriteBundle(p);  // a valid checksum
    auto loaded = bc::ReadBundle(bytes);
    REQUIRE_MESSAGE(!loaded.ok(), what);
    INFO(what, ": ", loaded.status().ToString());
    CHECK(loaded.status().code() == code);
    CHECK(loaded.status().message().find(reason) != std::string_view::npos);
  };
  auto first = [](bc::Program& p, bc::Op op) -> bc::Instr* {
    for (bc::Instr& in : p.code) {
      if (in.op == op) return &in;
    }
    return nullptr;
  };
  {
    bc::Program p = good;
    first(p, bc::Op::kLOAD)->c = 100000;
    expect_rejected(p, "slot out of range", "(LOAD) operand c: slot 100000 out of range");
  }
  {
    bc::Program p = good;
    first(p, bc::Op::kLOAD)->a = 200;
    expect_rejected(p, "register out of range", "(LOAD) operand a: register 200 out of range");
  }
  {
    bc::Program p = good;
    first(p, bc::Op::kJMPF)->c = 0;
    expect_rejected(p, "backward jump", "(JMPF) operand c: jump target 0 is not forward");
  }
  {
    bc::Program p = good;
    first(p, bc::Op::kJMPF)->c = 10000;
    expect_rejected(p, "jump out of the block",
                    "(JMPF) operand c: jump target 10000 is not forward inside the block");
  }
  {
    bc::Program p = good;
    first(p, bc::Op::kHASROLE)->c = 7;
    expect_rejected(p, "role out of range", "(HASROLE) operand c: role 7 out of range");
  }
  {
    bc::Program p = good;
    p.code[p.blocks[0].begin].op = static_cast<bc::Op>(250);
    expect_rejected(p, "unknown opcode", "instruction 0: unknown opcode 250");
  }
  {
    bc::Program p = good;
    p.code[p.blocks[0].begin + p.blocks[0].size - 1].op = bc::Op::kNOT;
    expect_rejected(p, "no RET", "block 0: does not end with RET");
  }
  {
    bc::Program p = good;
    bc::Instr* load = first(p, bc::Op::kLOAD);
    load->op = bc::Op::kCONST;
    load->c = 99999;
    expect_rejected(p, "constant out of range", "(CONST) operand c: constant 99999 out of range");
  }
  {
    bc::Program p = good;
    p.reg_types[0] = bc::MakeRegType(bc::ValueKind::kIp);  // a string register becomes an ip
    expect_rejected(p, "operand type", "(HASROLE) operand a: register 0 holds ip, needs bool");
  }
  {
    bc::Program p = good;
    p.blocks[0].num_regs = 300;
    expect_rejected(p, "too many registers", "block 0: 300 registers exceed max_registers",
                    absl::StatusCode::kResourceExhausted);
  }
  {
    bc::Program p = good;
    // Read a register before writing it: return r0 (of the result's type,
    // bool) before the HASROLE that writes it.
    REQUIRE(p.code[p.blocks[0].begin].op == bc::Op::kHASROLE);
    REQUIRE(p.code[p.blocks[0].begin].a == 0);
    p.code[p.blocks[0].begin] = bc::Instr{bc::Op::kRET, 0, 0, 0};
    expect_rejected(p, "read before write",
                    "instruction 0 (RET) reads register 0 before it is written");
  }
  {
    bc::Program p = good;
    p.blocks[0].begin = static_cast<uint32_t>(p.code.size());
    expect_rejected(p, "block out of range", "block 0: code out of range");
  }
  {
    bc::Program p = good;
    p.rules[0].condition = 99;
    expect_rejected(p, "rule block out of range", "rule 0: block out of range");
  }
  {
    bc::Program p = good;
    p.policies[0].rules.push_back(55);
    expect_rejected(p, "rule out of range", "policy 0: rule out of range");
  }
  {
    bc::Program p = good;
    p.roots.push_back(bc::Member{true, 3});
    expect_rejected(p, "set out of range", "roots: member out of range");
  }
  {
    bc::Program p = good;
    p.policy_sets.push_back(
        bc::PolicySet{"a", bc::Algorithm::kDenyOverrides, {bc::Member{true, 0}}});
    expect_rejected(p, "set cycle", "policy sets contain each other in a cycle");
  }
  {
    bc::Program p = good;
    p.regexes.push_back("(");
    expect_rejected(p, "bad regex", "regex 0 does not compile");
  }
  {
    bc::Program p = good;
    p.zones.push_back("Mars/Olympus");
    expect_rejected(p, "bad zone", "unknown time zone `Mars/Olympus`");
  }
  {
    bc::Program p = good;
    bc::Constant set;
    set.kind = bc::ValueKind::kSet;
    set.element = bc::ValueKind::kInt;
    set.elements = {0};  // refers to itself (not an earlier constant)
    p.constants.insert(p.constants.begin(), set);
    expect_rejected(p, "set constant", "constant 0: member 0 must refer to an earlier constant");
  }
}

const char* kRecords = R"(package t
schema {
  resource doc {
    entries: set<{ name: string, size: int, tags: set<string>, inner: { x: int } }>
  }
  actions { read }
}
data limits: { max: int, names: set<{ n: string }> }
policy p on doc {
  rule r: permit read if any e in resource.entries: e.size < data.limits.max and e.inner.x > 0
      and any n in data.limits.names: n.n == e.name
}
)";

TEST_CASE("records held as values: shapes round-trip, hostile shapes and fields are rejected") {
  const bc::Program good = Compile(kRecords);
  REQUIRE(bc::Verify(good).ok());
  // Shapes come children first: inner, entries' member, names' member, limits.
  REQUIRE(good.records.size() == 4);
  for (size_t i = 0; i < good.records.size(); ++i) {
    for (const bc::RecordField& field : good.records[i].fields)
      CHECK(field.type.record < static_cast<int32_t>(i));
  }
  std::string bytes = bc::WriteBundle(good);
  auto loaded = bc::ReadBundle(bytes);
  REQUIRE(loaded.ok());
  CHECK(bc::WriteBundle(*loaded) == bytes);
  std::string listing = bc::Disassemble(*loaded);
  CHECK(listing.find("record shapes:") != std::string::npos);
  CHECK(listing.find("FIELD") != std::string::npos);

  auto expect_rejected = [](bc::Program p, const char* what, const char* message) {
    auto loaded = bc::ReadBundle(bc::WriteBundle(p));
    CHECK_MESSAGE(!loaded.ok(), what);
    if (!loaded.ok()) {
      CHECK_MESSAGE(loaded.status().message().find(message) != std::string::npos, what, ": ",
                    loaded.status().message());
    }
  };
  auto field = [](bc::Program& p) -> bc::Instr* {
    for (bc::Instr& in : p.code) {
      if (in.op == bc::Op::kFIELD) return &in;
    }
    return nullptr;
  };
  REQUIRE(field(const_cast<bc::Program&>(good)) != nullptr);
  {
    bc::Program p = good;
    field(p)->c = 17;
    expect_rejected(p, "field out of range", "field 17 out of range");
  }
  {
    bc::Program p = good;
    bc::Instr* in = field(p);
    // Read a field of another type into the same register.
    const bc::RecordShape& shape =
        p.records[bc::ShapeOf(p.reg_types[p.blocks[0].reg_begin + in->b])];
    for (uint32_t f = 0; f < shape.fields.size(); ++f) {
      bc::RegType type = 0;
      bc::RegTypeOf(shape.fields[f].type, &type);
      if (type != p.reg_types[p.blocks[0].reg_begin + in->a]) {
        in->c = f;
        break;
      }
    }
    expect_rejected(p, "field of another type", "the field's type");
  }
  {
    bc::Program p = good;
    p.records[0].fields[0].type = p.records.back().fields[0].type;  // a later shape
    p.records[0].fields[0].type.record = static_cast<int32_t>(p.records.size() - 1);
    p.records[0].fields[0].type.code = bc::TypeCode::kRecord;
    expect_rejected(p, "a shape naming a later one", "record shape out of range");
  }
  {
    bc::Program p = good;
    p.records[1].fields[1].name = p.records[1].fields[0].name;
    expect_rejected(p, "duplicate field names", "duplicate name");
  }
  {
    bc::Program p = good;
    for (bc::RegType& type : p.reg_types) {
      if (bc::KindOf(type) == bc::ValueKind::kRecord) {
        type = bc::MakeRegType(bc::ValueKind::kRecord, bc::ValueKind::kBool, 1000);
        break;
      }
    }
    expect_rejected(p, "a register of an unknown shape", "invalid type");
  }
  {
    bc::Program p = good;
    for (bc::Attribute& a : p.attributes) {
      if (a.type.code == bc::TypeCode::kSet && a.type.element == bc::TypeCode::kRecord) {
        a.type.record = -1;
      }
    }
    expect_rejected(p, "a set of records without a shape", "without a shape");
  }
  {
    bc::Program p = good;
    p.data[0].type.record = -1;
    expect_rejected(p, "record data without a shape", "record");
  }
}

TEST_CASE("an infinite loop cannot be expressed") {
  bc::Program p = Compile(kSmall);
  // block: FORINIT r; FORNEXT r, s, ->4; FORINIT r (reset!); LOOP ->1; RET
  bc::CodeBlock block;
  block.begin = static_cast<uint32_t>(p.code.size());
  block.reg_begin = static_cast<uint32_t>(p.reg_types.size());
  block.num_regs = 3;
  block.result = bc::MakeRegType(bc::ValueKind::kBool);
  p.reg_types.push_back(bc::MakeRegType(bc::ValueKind::kIter));
  p.reg_types.push_back(bc::MakeRegType(bc::ValueKind::kSet, bc::ValueKind::kInt));
  p.reg_types.push_back(bc::MakeRegType(bc::ValueKind::kBool));
  bc::Constant empty;
  empty.kind = bc::ValueKind::kSet;
  empty.element = bc::ValueKind::kInt;
  p.constants.push_back(empty);
  uint32_t k = static_cast<uint32_t>(p.constants.size() - 1);
  p.code.push_back({bc::Op::kCONST, 1, 0, k});
  p.code.push_back({bc::Op::kFORINIT, 0, 0, 0});
  p.code.push_back({bc::Op::kFORNEXT, 0, 1, 5});
  p.code.push_back({bc::Op::kFORINIT, 0, 0, 0});
  p.code.push_back({bc::Op::kLOOP, 0, 0, 2});
  p.code.push_back({bc::Op::kBOOL, 2, 1, 0});
  p.code.push_back({bc::Op::kRET, 2, 0, 0});
  block.size = 7;
  p.blocks.push_back(block);
  absl::Status status = bc::Verify(p);
  CHECK(!status.ok());
  CHECK(status.message().find("resets the iterator") != std::string_view::npos);
  p.code[block.begin + 3] = {bc::Op::kBOOL, 2, 0, 0};  // no reset: a bounded loop
  CHECK(bc::Verify(p).ok());
}

}  // namespace
}  // namespace warden

namespace warden {
namespace {

const char* kLines = R"(package t
schema { resource doc { owner: string  level: int } actions { read } }
policy p on doc {
  rule r: permit read if
    resource.owner == subject.id
    and 10 / resource.level > 2
}
)";

TEST_CASE("the source line table: sorted, in range, and the line of each expression") {
  BuildOptions with_conjuncts;
  with_conjuncts.codegen.explain_conjuncts = true;
  const bc::Program good = Compile(kLines, with_conjuncts);
  REQUIRE(!good.lines.empty());
  // The DIV instruction was generated for `10 / resource.level`, on line 6.
  for (uint32_t pc = 0; pc < good.code.size(); ++pc) {
    if (good.code[pc].op != bc::Op::kDIV) continue;
    const bc::SourceLine* at = good.LineOf(pc);
    REQUIRE(at != nullptr);
    CHECK(at->line == 6);
    CHECK(good.files[at->file] == "b.warden");
  }
  CHECK(good.LineOf(static_cast<uint32_t>(good.code.size())) == nullptr);
  // The permit rule's two conjuncts, each with its own block and text.
  const bc::Rule& rule = good.rules[0];
  REQUIRE(rule.conjuncts.size() == 2);
  CHECK(rule.conjuncts[0].text == "resource.owner == subject.id");
  CHECK(rule.conjuncts[1].text == "10 / resource.level > 2");
  CHECK(rule.conjuncts[0].block != static_cast<uint32_t>(rule.condition));

  auto rejected = [](const bc::Program& p, const char* expected) {
    auto loaded = bc::ReadBundle(bc::WriteBundle(p));  // a valid checksum
    REQUIRE_MESSAGE(!loaded.ok(), expected);
    CHECK_MESSAGE(loaded.status().message().find(expected) != std::string_view::npos,
                  loaded.status().ToString());
  };
  if (good.lines.size() >= 2) {
    bc::Program p = good;
    std::swap(p.lines[0], p.lines[1]);
    rejected(p, "sorted");
  }
  {
    bc::Program p = good;
    p.lines.back().first = static_cast<uint32_t>(p.code.size());
    rejected(p, "instruction out of range");
  }
  {
    bc::Program p = good;
    p.lines[0].file = static_cast<uint32_t>(p.files.size());
    rejected(p, "file out of range");
  }
  {
    bc::Program p = good;
    p.lines.assign(p.code.size() + 1, bc::SourceLine{});
    rejected(p, "entries for");
  }
  {
    bc::Program p = good;
    p.rules[0].conjuncts[0].block = static_cast<uint32_t>(p.blocks.size());
    rejected(p, "block out of range");
  }
  {
    bc::Program p = good;
    p.rules[0].effect = bc::Effect::kDeny;
    rejected(p, "conjuncts");
  }
  // Without conjuncts (the default) the program is smaller and valid.
  const bc::Program plain = Compile(kLines);
  CHECK(plain.rules[0].conjuncts.empty());
  CHECK(plain.code.size() < good.code.size());
}

}  // namespace
}  // namespace warden
