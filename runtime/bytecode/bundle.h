// Bundles: a Program as one self-checking file (`warden compile -o X.wdnb`).
//
// Layout (all integers little-endian):
//
//   offset  size  field
//   0       4     magic "WDNB"
//   4       4     format version (kBundleFormatVersion)
//   8       4     flags (0)
//   12      4     header size (64)
//   16      8     content size N
//   24      32    SHA-256 of the content
//   56      4     signature size S (0: unsigned; room for a detached signature)
//   60      4     reserved (0)
//   64      N     content: the Program's tables, field by field (bundle.cc)
//   64+N    S     signature bytes (not yet checked: reserved for signing)
//
// The file is exactly 64 + N + S bytes. ReadBundle checks the header, the
// size, the checksum, then decodes with a bounds-checked reader (every count
// is checked against the bytes left and ProgramLimits before anything is
// allocated) and finally runs the verifier (verify.h). Any failure is an
// absl::Status naming what is wrong; nothing in a bundle can crash the loader.
#ifndef WARDEN_RUNTIME_BYTECODE_BUNDLE_H_
#define WARDEN_RUNTIME_BYTECODE_BUNDLE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "runtime/bytecode/program.h"
#include "runtime/bytecode/verify.h"

namespace warden::bc {

inline constexpr char kBundleMagic[4] = {'W', 'D', 'N', 'B'};
// 2: limits carry their key components (LimitKey).
// 3: record values (Program::records, TypeRef::record, 32-bit register types,
//    FIELD and INR); the source line table (Program::lines: the line of every
//    instruction, for evaluation errors), rule conjuncts (explain), policy and
//    policy set file:line.
// A bundle of another version is refused ("unsupported bundle format
// version"): recompile it.
inline constexpr uint32_t kBundleFormatVersion = 3;
inline constexpr size_t kBundleHeaderSize = 64;

// Serializes `program` (which should verify) into a bundle.
std::string WriteBundle(const Program& program);

// Decodes and verifies a bundle. `hash_hex`, if given, receives the content's
// SHA-256 in lowercase hex (the bundle hash reported with every decision).
absl::StatusOr<Program> ReadBundle(std::string_view bytes, const ProgramLimits& limits = {},
                                   std::string* hash_hex = nullptr);

// The SHA-256 of `bytes` in lowercase hex.
std::string Sha256Hex(std::string_view bytes);

// Recomputes the header's checksum over the content (for tests that corrupt
// a bundle's content on purpose and need it to pass the checksum).
void ResealBundle(std::string* bundle);

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_BUNDLE_H_
