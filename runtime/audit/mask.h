// Masking requests before they are audited: the values of attributes marked
// `sensitive` in the schema become "<redacted>" (docs/language.md, "Sensitive
// marks"), at any depth of nested records, and for resource attributes only
// on requests for that resource type.
#ifndef WARDEN_RUNTIME_AUDIT_MASK_H_
#define WARDEN_RUNTIME_AUDIT_MASK_H_

#include <memory>
#include <string>
#include <string_view>

#include "runtime/bytecode/program.h"

namespace warden::audit {

inline constexpr std::string_view kRedacted = "<redacted>";

// Built once per program (cheap to query, immutable, thread-safe).
class RequestMasker {
 public:
  explicit RequestMasker(const bc::Program& program);
  ~RequestMasker();
  RequestMasker(RequestMasker&&) noexcept;
  RequestMasker& operator=(RequestMasker&&) noexcept;

  // The request as compact one-line JSON with sensitive values replaced.
  // Anything that is not a JSON object (or is nested deeper than 64 levels)
  // becomes {"unparsed":true}: the raw text is never returned. Numbers are
  // re-serialized (1.50 becomes 1.5).
  std::string Mask(std::string_view request_json) const;

  // True when the schema has no sensitive attribute (Mask still normalizes).
  bool empty() const;

  struct Tree;

 private:
  std::unique_ptr<Tree> tree_;
};

// One-off convenience: builds a RequestMasker and masks one request. Servers
// should keep a RequestMasker per loaded program instead.
std::string MaskRequest(const bc::Program& program, std::string_view request_json);

}  // namespace warden::audit

#endif  // WARDEN_RUNTIME_AUDIT_MASK_H_
