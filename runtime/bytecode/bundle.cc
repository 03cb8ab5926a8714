#include "runtime/bytecode/bundle.h"

#include <openssl/sha.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace warden::bc {
namespace {

// ---------------------------------------------------------------- archives
//
// Transfer() below lists the Program's fields once; Writer appends them and
// Reader decodes them, checking every length against the bytes left.

class Writer {
 public:
  void U8(uint8_t& v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t& v) { Raw(v, 2); }
  void U32(uint32_t& v) { Raw(v, 4); }
  void I32(int32_t& v) {
    uint32_t u = static_cast<uint32_t>(v);
    Raw(u, 4);
  }
  void I64(int64_t& v) {
    uint64_t u = static_cast<uint64_t>(v);
    Raw(u, 8);
  }
  void Bool(bool& v) { out_.push_back(v ? 1 : 0); }
  template <typename E>
  void Enum(E& v, int) {
    out_.push_back(static_cast<char>(static_cast<uint8_t>(v)));
  }
  void Str(std::string& s) {
    uint32_t n = static_cast<uint32_t>(s.size());
    U32(n);
    out_.append(s);
  }
  template <typename T, typename F>
  void Vec(std::vector<T>& items, size_t, F each) {
    uint32_t n = static_cast<uint32_t>(items.size());
    U32(n);
    for (T& item : items) each(item);
  }
  void Code(std::vector<Instr>& code, size_t) {
    uint32_t n = static_cast<uint32_t>(code.size());
    U32(n);
    for (Instr& in : code) {
      uint8_t op = static_cast<uint8_t>(in.op);
      U8(op);
      U8(in.a);
      U16(in.b);
      U32(in.c);
    }
  }
  void Ip(IpNet& ip) {
    out_.append(reinterpret_cast<const char*>(ip.bytes), 16);
    U8(ip.prefix);
    Bool(ip.v6);
  }
  bool ok() const { return true; }
  std::string& out() { return out_; }

 private:
  template <typename T>
  void Raw(T v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out_.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  }
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, const ProgramLimits& limits) : in_(in), limits_(limits) {}

  void U8(uint8_t& v) { v = static_cast<uint8_t>(Take(1)); }
  void U16(uint16_t& v) { v = static_cast<uint16_t>(Take(2)); }
  void U32(uint32_t& v) { v = static_cast<uint32_t>(Take(4)); }
  void I32(int32_t& v) { v = static_cast<int32_t>(static_cast<uint32_t>(Take(4))); }
  void I64(int64_t& v) { v = static_cast<int64_t>(Take(8)); }
  void Bool(bool& v) {
    uint64_t b = Take(1);
    if (b > 1) Fail("a bool is neither 0 nor 1");
    v = b == 1;
  }
  // Enums are one byte below `count`.
  template <typename E>
  void Enum(E& v, int count) {
    uint64_t b = Take(1);
    if (b >= static_cast<uint64_t>(count)) Fail("an enumerated value is out of range");
    v = static_cast<E>(b);
  }
  void Str(std::string& s) {
    uint32_t n = 0;
    U32(n);
    if (!ok_) return;
    if (n > limits_.max_string_bytes)
      return Fail(absl::StrCat("a string of ", n, " bytes exceeds max_string_bytes"));
    if (n > in_.size() - pos_) return Fail("truncated string");
    s.assign(in_.data() + pos_, n);
    pos_ += n;
  }
  // `min_bytes`: the fewest bytes one element takes, so a count cannot
  // promise more elements than the input could hold.
  template <typename T, typename F>
  void Vec(std::vector<T>& items, size_t min_bytes, F each) {
    uint32_t n = 0;
    U32(n);
    if (!ok_) return;
    if (n > limits_.max_table_entries) {
      return Fail(absl::StrCat("a table of ", n, " entries exceeds max_table_entries"));
    }
    if (static_cast<uint64_t>(n) * min_bytes > in_.size() - pos_) return Fail("truncated table");
    items.clear();
    items.resize(n);
    for (T& item : items) {
      each(item);
      if (!ok_) return;
    }
  }
  void Code(std::vector<Instr>& code, size_t) {
    uint32_t n = 0;
    U32(n);
    if (!ok_) return;
    if (n > limits_.max_code) return Fail(absl::StrCat(n, " instructions exceed max_code"));
    if (static_cast<uint64_t>(n) * 8 > in_.size() - pos_) return Fail("truncated code");
    code.resize(n);
    for (Instr& in : code) {
      uint8_t op = 0;
      U8(op);
      in.op = static_cast<Op>(op);  // checked by the verifier
      U8(in.a);
      U16(in.b);
      U32(in.c);
    }
  }
  void Ip(IpNet& ip) {
    if (in_.size() - pos_ < 16) return Fail("truncated");
    std::memcpy(ip.bytes, in_.data() + pos_, 16);
    pos_ += 16;
    U8(ip.prefix);
    Bool(ip.v6);
  }

  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  const std::string& error() const { return error_; }

 private:
  uint64_t Take(int bytes) {
    if (!ok_) return 0;
    if (in_.size() - pos_ < static_cast<size_t>(bytes)) {
      Fail("truncated");
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += bytes;
    return v;
  }
  void Fail(const std::string& message) {
    if (!ok_) return;
    ok_ = false;
    error_ = absl::StrCat(message, " at content offset ", pos_);
  }

  std::string_view in_;
  size_t pos_ = 0;
  const ProgramLimits& limits_;
  bool ok_ = true;
  std::string error_;
};

template <typename A>
void TransferType(A& ar, TypeRef& t) {
  ar.Enum(t.code, kTypeCodeCount);
  ar.Enum(t.element, kTypeCodeCount);
  ar.I32(t.enumeration);
  ar.I32(t.record);  // since format version 3
}

template <typename A>
void TransferIndices(A& ar, std::vector<uint32_t>& v) {
  ar.Vec(v, 4, [&](uint32_t& x) { ar.U32(x); });
}

template <typename A>
void TransferMember(A& ar, Member& m) {
  ar.Bool(m.is_set);
  ar.U32(m.index);
}

// The content of a bundle, field by field. ORDER: changing it changes the
// format; bump kBundleFormatVersion.
template <typename A>
void Transfer(A& ar, Program& p) {
  ar.Vec(p.files, 4, [&](std::string& s) { ar.Str(s); });
  ar.U32(p.slot_count);
  ar.Vec(p.attributes, 26, [&](Attribute& a) {
    ar.Str(a.path);
    TransferType(ar, a.type);
    ar.Bool(a.optional);
    ar.Bool(a.sensitive);
    ar.Bool(a.builtin);
    ar.I32(a.parent);
    ar.I32(a.resource_type);
    ar.U32(a.slot);
    ar.I32(a.default_value);
  });
  ar.Vec(p.enums, 8, [&](Enum& e) {
    ar.Str(e.name);
    ar.Vec(e.members, 4, [&](std::string& s) { ar.Str(s); });
  });
  ar.Vec(p.records, 8, [&](RecordShape& r) {  // since format version 3
    ar.Str(r.name);
    ar.Vec(r.fields, 19, [&](RecordField& f) {
      ar.Str(f.name);
      TransferType(ar, f.type);
      ar.Bool(f.optional);
      ar.Bool(f.sensitive);
    });
  });
  ar.I32(p.action_enum);
  ar.Vec(p.actions, 5, [&](Action& a) {
    ar.Str(a.name);
    ar.Bool(a.sensitive);
  });
  ar.Vec(p.resource_types, 4, [&](std::string& s) { ar.Str(s); });
  ar.Vec(p.roles, 8, [&](Role& r) {
    ar.Str(r.name);
    TransferIndices(ar, r.closure);
  });
  ar.Vec(p.separations, 12, [&](Separation& s) {
    TransferIndices(ar, s.roles);
    ar.U32(s.file);
    ar.U32(s.line);
  });
  ar.Vec(p.challenges, 4, [&](std::string& s) { ar.Str(s); });
  ar.Vec(p.jit_profiles, 8, [&](JitProfile& j) {
    ar.Str(j.name);
    TransferIndices(ar, j.grants);
  });
  ar.Vec(p.risks, 8, [&](Risk& r) {
    ar.Str(r.name);
    ar.Vec(r.factors, 12, [&](RiskFactor& f) {
      ar.I64(f.points);
      ar.U32(f.block);
    });
  });
  ar.Vec(p.limits, 24, [&](Limit& l) {
    ar.Str(l.name);
    ar.I64(l.count);
    ar.I64(l.window_ms);
    ar.Vec(l.keys, 9, [&](LimitKey& k) {  // since format version 2
      ar.Enum(k.kind, kLimitKeyKindCount);
      ar.U32(k.slot);
      ar.Str(k.path);
    });
  });
  ar.Vec(p.data, 14, [&](DataSlot& d) {
    ar.Str(d.name);
    TransferType(ar, d.type);
  });
  ar.Vec(p.rules, 34, [&](Rule& r) {
    ar.Str(r.name);
    ar.U32(r.file);
    ar.U32(r.line);
    ar.Enum(r.effect, 3);
    ar.I32(r.challenge);
    ar.Bool(r.has_reason);
    ar.Str(r.reason);
    ar.Bool(r.any_action);
    TransferIndices(ar, r.actions);
    ar.I32(r.condition);
    ar.Vec(r.extras, 9, [&](Extra& e) {
      ar.Bool(e.is_obligation);
      ar.Str(e.name);
      ar.Vec(e.args, 18, [&](ExtraArg& arg) {
        ar.Str(arg.key);
        ar.U32(arg.block);
        TransferType(ar, arg.type);
      });
    });
    ar.Vec(r.conjuncts, 8, [&](Conjunct& c) {  // since format version 3
      ar.U32(c.block);
      ar.Str(c.text);
    });
  });
  ar.Vec(p.policies, 21, [&](Policy& policy) {
    ar.Str(policy.name);
    ar.U32(policy.file);  // since format version 3
    ar.U32(policy.line);
    ar.I32(policy.resource_type);
    ar.Enum(policy.algorithm, kAlgorithmCount);
    TransferIndices(ar, policy.rules);
  });
  ar.Vec(p.policy_sets, 17, [&](PolicySet& set) {
    ar.Str(set.name);
    ar.U32(set.file);  // since format version 3
    ar.U32(set.line);
    ar.Enum(set.algorithm, kAlgorithmCount);
    ar.Vec(set.members, 5, [&](Member& m) { TransferMember(ar, m); });
  });
  ar.Vec(p.roots, 5, [&](Member& m) { TransferMember(ar, m); });
  ar.Vec(p.constants, 35, [&](Constant& k) {
    ar.Enum(k.kind, kValueKindCount);
    ar.Enum(k.element, kValueKindCount);
    ar.I64(k.i);
    ar.Str(k.s);
    ar.Ip(k.ip);
    TransferIndices(ar, k.elements);
  });
  ar.Vec(p.regexes, 4, [&](std::string& s) { ar.Str(s); });
  ar.Vec(p.zones, 4, [&](std::string& s) { ar.Str(s); });
  ar.Vec(p.blocks, 18, [&](CodeBlock& b) {
    ar.U32(b.begin);
    ar.U32(b.size);
    ar.U32(b.reg_begin);
    ar.U16(b.num_regs);
    ar.U32(b.result);  // 4 bytes since format version 3 (record shapes)
  });
  ar.Code(p.code, 8);
  ar.Vec(p.reg_types, 4, [&](RegType& t) { ar.U32(t); });
  ar.Vec(p.lines, 12, [&](SourceLine& l) {  // since format version 3
    ar.U32(l.first);
    ar.U32(l.file);
    ar.U32(l.line);
  });
}

void Put32(std::string& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void Put64(std::string& out, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t Get(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

void Sha256(std::string_view bytes, unsigned char out[SHA256_DIGEST_LENGTH]) {
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
}

std::string Hex(const unsigned char* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

absl::Status Corrupt(const std::string& message) {
  return absl::DataLossError(absl::StrCat("corrupt bundle: ", message));
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Sha256(bytes, digest);
  return Hex(digest, sizeof(digest));
}

std::string WriteBundle(const Program& program) {
  Writer writer;
  Transfer(writer, const_cast<Program&>(program));  // Writer only reads
  const std::string& content = writer.out();
  std::string out(kBundleHeaderSize, '\0');
  std::memcpy(out.data(), kBundleMagic, 4);
  Put32(out, 4, kBundleFormatVersion);
  Put32(out, 8, 0);
  Put32(out, 12, kBundleHeaderSize);
  Put64(out, 16, content.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Sha256(content, digest);
  std::memcpy(out.data() + 24, digest, 32);
  Put32(out, 56, 0);
  Put32(out, 60, 0);
  out += content;
  return out;
}

void ResealBundle(std::string* bundle) {
  if (bundle->size() < kBundleHeaderSize) return;
  uint64_t size = Get(*bundle, 16, 8);
  if (size > bundle->size() - kBundleHeaderSize) return;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Sha256(std::string_view(*bundle).substr(kBundleHeaderSize, size), digest);
  std::memcpy(bundle->data() + 24, digest, 32);
}

absl::StatusOr<Program> ReadBundle(std::string_view bytes, const ProgramLimits& limits,
                                   std::string* hash_hex) {
  if (bytes.size() > limits.max_bundle_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("bundle of ", bytes.size(),
                                                     " bytes exceeds max_bundle_bytes (",
                                                     limits.max_bundle_bytes, ")"));
  }
  if (bytes.size() < kBundleHeaderSize) {
    return Corrupt(absl::StrCat("truncated header: ", bytes.size(), " bytes, a header has ",
                                kBundleHeaderSize));
  }
  if (std::memcmp(bytes.data(), kBundleMagic, 4) != 0)
    return Corrupt("bad magic: not a Warden bundle");
  uint32_t version = static_cast<uint32_t>(Get(bytes, 4, 4));
  if (version != kBundleFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("unsupported bundle format version ", version,
                                                      " (this build reads version ",
                                                      kBundleFormatVersion, ")"));
  }
  if (Get(bytes, 8, 4) != 0) return Corrupt("unknown flags");
  if (Get(bytes, 12, 4) != kBundleHeaderSize) return Corrupt("bad header size");
  if (Get(bytes, 60, 4) != 0) return Corrupt("reserved header field is not 0");
  uint64_t content_size = Get(bytes, 16, 8);
  uint64_t signature_size = Get(bytes, 56, 4);
  uint64_t available = bytes.size() - kBundleHeaderSize;
  if (content_size > available || signature_size != available - content_size) {
    return Corrupt(absl::StrCat("size mismatch: the header announces ", content_size,
                                " content bytes and ", signature_size,
                                " signature bytes, the file has ", available, " after the header"));
  }
  std::string_view content = bytes.substr(kBundleHeaderSize, content_size);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Sha256(content, digest);
  if (std::memcmp(digest, bytes.data() + 24, 32) != 0)
    return Corrupt("checksum mismatch (SHA-256 of the content)");
  Reader reader(content, limits);
  Program program;
  Transfer(reader, program);
  if (!reader.ok()) return Corrupt(reader.error());
  if (!reader.at_end()) return Corrupt("trailing bytes after the content");
  if (absl::Status status = Verify(program, limits); !status.ok()) return status;
  if (hash_hex != nullptr) *hash_hex = Hex(digest, sizeof(digest));
  return program;
}

}  // namespace warden::bc
