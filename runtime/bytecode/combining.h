// Combining algorithms, defined once for every layer.
//
// WARDEN_ALGORITHMS(X) is the single list: X(Name, "keyword", "meaning").
// The checker resolves `combine KEYWORD` from it, the code generator copies
// the enum into the program, bundles store its number (ORDER ALGORITHM: the
// numbers are pinned below; a new algorithm goes at the end), the verifier
// bounds it, the runtime's Combiner (runtime/decision.h) and the reference
// evaluator switch on it, and docs_test checks that docs/language.md lists
// every keyword with its meaning. There is no other copy to convert to.
#ifndef WARDEN_RUNTIME_BYTECODE_COMBINING_H_
#define WARDEN_RUNTIME_BYTECODE_COMBINING_H_

#include <cstdint>

namespace warden::bc {

// clang-format off
#define WARDEN_ALGORITHMS(X)                                                                        \
  X(DenyOverrides,     "deny_overrides",      "`deny` if any child denies; else `step_up` if any child steps up; else `permit` if any child permits; else `not_applicable`. Order: deny > step_up > permit > not_applicable") \
  X(PermitOverrides,   "permit_overrides",    "`permit` if any child permits; else `step_up` if any; else `deny` if any; else `not_applicable`") \
  X(FirstApplicable,   "first_applicable",    "the result of the first applicable child in source order; `not_applicable` if none") \
  X(DenyUnlessPermit,  "deny_unless_permit",  "as `permit_overrides`, but `deny` instead of `not_applicable`") \
  X(PermitUnlessDeny,  "permit_unless_deny",  "as `deny_overrides`, but `permit` instead of `not_applicable`") \
  X(OnlyOneApplicable, "only_one_applicable", "the result of the only applicable child; `not_applicable` if none; `deny`, with an error, if more than one child is applicable")
// clang-format on

enum class Algorithm : uint8_t {
#define WARDEN_ALGORITHM_ENUM(name, keyword, meaning) k##name,
  WARDEN_ALGORITHMS(WARDEN_ALGORITHM_ENUM)
#undef WARDEN_ALGORITHM_ENUM
};

#define WARDEN_ALGORITHM_COUNT(name, keyword, meaning) +1
inline constexpr int kAlgorithmCount = 0 WARDEN_ALGORITHMS(WARDEN_ALGORITHM_COUNT);
#undef WARDEN_ALGORITHM_COUNT

struct AlgorithmInfo {
  Algorithm algorithm;
  const char* keyword;
  const char* meaning;
};

inline constexpr AlgorithmInfo kAlgorithmInfo[] = {
#define WARDEN_ALGORITHM_INFO(name, keyword, meaning) {Algorithm::k##name, keyword, meaning},
    WARDEN_ALGORITHMS(WARDEN_ALGORITHM_INFO)
#undef WARDEN_ALGORITHM_INFO
};
static_assert(sizeof(kAlgorithmInfo) / sizeof(kAlgorithmInfo[0]) == kAlgorithmCount);

// Bundles store these numbers (kBundleFormatVersion 3): never renumber.
static_assert(static_cast<int>(Algorithm::kDenyOverrides) == 0);
static_assert(static_cast<int>(Algorithm::kPermitOverrides) == 1);
static_assert(static_cast<int>(Algorithm::kFirstApplicable) == 2);
static_assert(static_cast<int>(Algorithm::kDenyUnlessPermit) == 3);
static_assert(static_cast<int>(Algorithm::kPermitUnlessDeny) == 4);
static_assert(static_cast<int>(Algorithm::kOnlyOneApplicable) == 5);
static_assert(kAlgorithmCount == 6, "a new algorithm goes at the end; pin its number above");

// The keyword written after `combine` ("deny_overrides", …); "?" when out of range.
inline const char* AlgorithmName(Algorithm algorithm) {
  int index = static_cast<int>(algorithm);
  return index < kAlgorithmCount ? kAlgorithmInfo[index].keyword : "?";
}

}  // namespace warden::bc

#endif  // WARDEN_RUNTIME_BYTECODE_COMBINING_H_
