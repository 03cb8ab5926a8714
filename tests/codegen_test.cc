// The code generator: table-driven {condition, expected listing} cases.
#include "compiler/codegen.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "compiler/driver.h"
#include "runtime/bytecode/disasm.h"

namespace warden {
namespace {

const char* kSchema = R"(package t
schema { subject { level: int  nick: string? } resource doc { owner: string  tags: set<string> } actions { read } }
role reader
)";

// The listing of the rule's condition block, without the header line.
std::string Listing(const std::string& condition) {
  std::string text =
      std::string(kSchema) + "policy p on doc { rule r: permit read if " + condition + " }\n";
  auto compilation = CompileSources({{"t.warden", text}});
  REQUIRE_MESSAGE(compilation->program != nullptr, condition);
  auto program = GenerateBytecode(*compilation->program, compilation->sources);
  REQUIRE_MESSAGE(program.ok(), program.status().ToString());
  REQUIRE(program->rules.size() == 1);
  std::string listing =
      bc::DisassembleBlock(*program, static_cast<uint32_t>(program->rules[0].condition));
  std::string out;
  for (size_t start = listing.find('\n') + 1; start < listing.size();) {
    size_t end = listing.find('\n', start);
    std::string line = listing.substr(start, end - start);
    start = end + 1;
    if (line.rfind("        ;", 0) == 0) continue;  // a source line, not an instruction
    if (size_t note = line.find(" ;"); note != std::string::npos) line.resize(note);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line.substr(8) + "\n";  // drop "  0000  "
  }
  return out;
}

TEST_CASE("codegen listings") {
  struct Case {
    const char* condition;
    const char* listing;
  };
  const Case kCases[] = {
      {"resource.owner == subject.id",
       "LOAD     r1, @N\nLOAD     r2, @N\nEQS      r0, r1, r2\nRET      r0\n"},
      {"subject.level > 3",  // > is < with the operands swapped
       "LOAD     r1, @N\nCONST    r2, k5\nLTI      r0, r2, r1\nRET      r0\n"},
      {"subject has role reader and subject.level < 2",  // short-circuit
       "HASROLE  r0, role:0\nJMPF     r0, ->0005\nLOAD     r1, @N\nCONST    r2, k5\nLTI      r0, "
       "r1, r2\nRET      r0\n"},
      {"subject.level + (2 * 3) == 7",  // 2 * 3 folded
       "LOAD     r2, @N\nCONST    r3, k5\nADD      r1, r2, r3\nCONST    r2, k6\nEQI      r0, r1, "
       "r2\nRET      r0\n"},
      {"resource.owner in [\"a\", \"b\"]",  // k5 "a", k6 "b", k7 the set
       "LOAD     r1, @N\nCONST    r2, k7\nINS      r0, r1, r2\nRET      r0\n"},
  };
  for (const Case& c : kCases) {
    std::string listing = Listing(c.condition);
    // Slot numbers depend on the schema; compare them as @N.
    std::string normalized;
    for (size_t i = 0; i < listing.size(); ++i) {
      normalized += listing[i];
      if (listing[i] == '@') {
        normalized += 'N';
        while (i + 1 < listing.size() && isdigit(static_cast<unsigned char>(listing[i + 1]))) ++i;
      }
    }
    INFO(c.condition);
    INFO(normalized);
    CHECK(normalized == c.listing);
  }
}

TEST_CASE(
    "jumps are threaded: a chain of `and`s exits at once, an `or` after an `and` skips its test") {
  auto compilation = CompileSources({{"t.warden", std::string(kSchema) + R"(policy p on doc {
  rule a: permit read if subject has role reader and subject.level < 2 and subject.level > 0
  rule b: permit read if subject has role reader and subject.level < 2 or resource.owner == "x"
})"}});
  REQUIRE(compilation->program != nullptr);
  auto program = GenerateBytecode(*compilation->program, compilation->sources);
  REQUIRE(program.ok());
  auto code = [&](int rule) {
    const bc::CodeBlock& block = program->blocks[program->rules[rule].condition];
    return std::vector<bc::Instr>(program->code.begin() + block.begin,
                                  program->code.begin() + block.begin + block.size);
  };
  // a: every JMPF lands on the RET, none on another jump.
  std::vector<bc::Instr> a = code(0);
  int jumps = 0;
  for (const bc::Instr& in : a) {
    if (in.op != bc::Op::kJMPF) continue;
    ++jumps;
    CHECK(in.c == a.size() - 1);
  }
  CHECK(jumps == 2);
  // b: the `and`'s JMPF, taken when r0 is false, skips the `or`'s JMPT on r0.
  std::vector<bc::Instr> b = code(1);
  REQUIRE(b[1].op == bc::Op::kJMPF);
  CHECK(b[b[1].c - 1].op == bc::Op::kJMPT);
  CHECK(b[b[1].c].op != bc::Op::kJMPT);
  CHECK(b[b[1].c].op != bc::Op::kJMPF);
}

TEST_CASE("constants are deduplicated; registers are typed and reused") {
  auto compilation = CompileSources({{"t.warden", std::string(kSchema) + R"(policy p on doc {
  rule a: permit read if subject.level == 5 and resource.owner == "x"
  rule b: permit read if subject.level == 5 and resource.owner == "x"
})"}});
  REQUIRE(compilation->program != nullptr);
  auto program = GenerateBytecode(*compilation->program, compilation->sources);
  REQUIRE(program.ok());
  CHECK(program->constants.size() == 2 + 5);  // 5, "x" + the built-in defaults
  for (const bc::CodeBlock& block : program->blocks) CHECK(block.num_regs <= 5);
}

TEST_CASE("limits are options with clear errors") {
  auto compilation = CompileSources(
      {{"t.warden", std::string(kSchema) +
                        "policy p on doc { rule r: permit read if subject.level "
                        "== 1 and (subject.level + (subject.level + (subject.level + "
                        "subject.level))) == 4 }"}});
  REQUIRE(compilation->program != nullptr);
  CodegenOptions options;
  options.max_registers = 3;
  auto program = GenerateBytecode(*compilation->program, compilation->sources, options);
  REQUIRE(!program.ok());
  CHECK(program.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(program.status().message().find("registers") != std::string_view::npos);
}

}  // namespace
}  // namespace warden
