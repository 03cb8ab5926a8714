// The one list of diagnostic codes. Codes are stable: never renumber or reuse
// one; retire a code by leaving its line with a "(retired)" summary.
// docs/language.md lists every code; tests/diagnostic_test.cc checks that.
//
// X(enumerator, "code", severity, "slug", "one-line meaning")
#ifndef WARDEN_COMPILER_DIAGNOSTIC_CODES_H_
#define WARDEN_COMPILER_DIAGNOSTIC_CODES_H_

#define WARDEN_DIAGNOSTIC_CODES(X)                                                                 \
  /* input and syntax */                                                                           \
  X(kInvalidUtf8, "E0001", kError, "invalid-utf8", "the file is not valid UTF-8")                  \
  X(kFileTooLarge, "E0002", kError, "file-too-large", "the file exceeds the maximum size")         \
  X(kSyntaxError, "E0003", kError, "syntax-error", "the text does not follow the grammar")         \
  X(kNestingTooDeep, "E0004", kError, "nesting-too-deep", "expressions nest deeper than allowed")  \
  X(kUnterminatedString, "E0005", kError, "unterminated-string", "a string has no closing quote")  \
  X(kUnterminatedComment, "E0006", kError, "unterminated-comment", "a /* comment has no */")       \
  X(kUnexpectedCharacter, "E0007", kError, "unexpected-character", "a character no token uses")    \
  X(kInvalidLiteral, "E0008", kError, "invalid-literal", "a literal is malformed or out of range") \
  X(kTooManyDiagnostics, "E0009", kNote, "too-many-diagnostics",                                   \
    "further diagnostics were dropped")                                                            \
  X(kLimitExceeded, "E0010", kError, "limit-exceeded",                                             \
    "a size limit of the compiler was exceeded")                                                   \
  /* names */                                                                                      \
  X(kDuplicateDeclaration, "E0101", kError, "duplicate-declaration", "a name is declared twice")   \
  X(kUnknownName, "E0102", kError, "unknown-name", "a name or attribute is not declared")          \
  X(kUnknownPackage, "E0103", kError, "unknown-package", "an import names no known package")       \
  X(kImportCycle, "E0104", kError, "import-cycle", "packages import each other in a cycle")        \
  X(kUnknownRole, "E0105", kError, "unknown-role", "a role is not declared")                       \
  X(kUnknownResourceType, "E0106", kError, "unknown-resource-type",                                \
    "a resource type is undeclared")                                                               \
  X(kUnknownAction, "E0107", kError, "unknown-action", "an action is not declared")                \
  X(kUnknownChallenge, "E0108", kError, "unknown-challenge",                                       \
    "a step-up challenge is not declared")                                                         \
  X(kUnknownAlgorithm, "E0109", kError, "unknown-algorithm", "a combining algorithm is unknown")   \
  X(kUnknownType, "E0110", kError, "unknown-type", "a type name is unknown")                       \
  X(kRecursiveDefinition, "E0111", kError, "recursive-definition",                                 \
    "a const or def refers to itself")                                                             \
  X(kUnknownRule, "E0112", kError, "unknown-rule", "a test names a rule that does not exist")      \
  X(kBuiltinRedeclared, "E0113", kError, "builtin-redeclared",                                     \
    "a built-in attribute is redeclared")                                                          \
  X(kUnknownFunction, "E0114", kError, "unknown-function", "a function or method does not exist")  \
  X(kMissingPackage, "E0115", kError, "missing-package", "a file has no package declaration")      \
  /* types */                                                                                      \
  X(kTypeMismatch, "E0201", kError, "type-mismatch", "an expression has the wrong type")           \
  X(kUnguardedOptional, "E0202", kError, "unguarded-optional",                                     \
    "an optional attribute is read unguarded")                                                     \
  X(kInvalidOperand, "E0203", kError, "invalid-operand",                                           \
    "an operator does not apply to these types")                                                   \
  X(kWrongArgumentCount, "E0204", kError, "wrong-argument-count",                                  \
    "a call has too many or too few arguments")                                                    \
  X(kInvalidRegex, "E0205", kError, "invalid-regex", "a `matches` pattern is not valid RE2")       \
  X(kUnknownTimeZone, "E0206", kError, "unknown-time-zone",                                        \
    "a time zone name is not in the IANA database")                                                \
  X(kNotConstant, "E0207", kError, "not-constant",                                                 \
    "a value that must be known at compile time is not")                                           \
  X(kInvalidTestRequest, "E0208", kError, "invalid-test-request",                                  \
    "a test's request does not fit the schema")                                                    \
  X(kImpossibleComparison, "E0209", kError, "impossible-comparison",                               \
    "a comparison can never hold")                                                                 \
  /* roles, separation of duties, JIT */                                                           \
  X(kRoleCycle, "E0301", kError, "role-cycle", "roles extend each other in a cycle")               \
  X(kRoleInheritsSeparated, "E0302", kError, "role-inherits-separated",                            \
    "a role holds two separated roles")                                                            \
  X(kJitGrantsSeparated, "E0303", kError, "jit-grants-separated",                                  \
    "a JIT profile grants separated roles")                                                        \
  X(kInvalidJit, "E0304", kError, "invalid-jit",                                                   \
    "a JIT profile clause is repeated or out of range")                                            \
  /* security lints */                                                                             \
  X(kSecretLiteral, "W0401", kWarning, "secret-literal", "a string literal looks like a secret")   \
  X(kRuleNeverFires, "W0402", kWarning, "rule-never-fires", "a rule's condition can never hold")   \
  X(kRuleAlwaysFires, "W0403", kWarning, "rule-always-fires", "a rule's condition always holds")   \
  X(kShadowedRule, "W0404", kWarning, "shadowed-rule", "an earlier rule always decides first")     \
  X(kDenyBypassable, "W0405", kWarning, "deny-bypassable",                                         \
    "a deny does not fire when an attribute is absent")                                            \
  X(kWeakSensitivePermit, "W0406", kWarning, "weak-sensitive-permit",                              \
    "a sensitive action is permitted without strong authentication")                               \
  X(kJitWithoutMax, "W0407", kWarning, "jit-without-max", "a JIT profile has no maximum duration") \
  X(kJitWithoutApprovals, "W0408", kWarning, "jit-without-approvals",                              \
    "a JIT profile needs no approvals")                                                            \
  X(kRedundantHas, "W0409", kWarning, "redundant-has", "`has` tests a required attribute")                                                                             \
  X(kInvisibleCharacter, "W0410", kWarning, "invisible-character",                                  \
    "the source holds an invisible or text-direction character")

#endif  // WARDEN_COMPILER_DIAGNOSTIC_CODES_H_
