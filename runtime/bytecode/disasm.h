// Human-readable listings of bytecode programs (`warden disasm BUNDLE`,
// `warden compile --dump=bytecode`). Generated from the opcode table: each
// operand is printed by its kind (rN register, @N slot, kN constant, ->N
// jump target), with the names it refers to in a trailing comment.
#ifndef WARDEN_RUNTIME_BYTECODE_DISASM_H_
#define WARDEN_RUNTIME_BYTECODE_DISASM_H_

#include <cstdint>
#include <string>

#include "runtime/bytecode/program.h"

namespace warden::bc {

// The whole program: tables, then every policy, rule and block.
std::string Disassemble(const Program& program);

// One code block, one instruction per line.
std::string DisassembleBlock(const Program& program, uint32_t block);

// A constant as written in listings: 42, "ops", 10.0.0.0/8, {1, 2}.
std::string ConstantText(const Program& program, uint32_t index);

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_DISASM_H_
