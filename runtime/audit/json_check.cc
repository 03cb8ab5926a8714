#include "runtime/audit/json_check.h"

namespace warden::audit {
namespace {

class Checker {
 public:
  explicit Checker(std::string_view text) : text_(text) {}

  bool Object() {
    SkipSpace();
    if (!At('{') || !Value(1)) return false;
    SkipSpace();
    return i_ == text_.size();
  }

 private:
  bool At(char c) const { return i_ < text_.size() && text_[i_] == c; }
  bool Digit() const { return i_ < text_.size() && text_[i_] >= '0' && text_[i_] <= '9'; }

  void SkipSpace() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++i_;
    }
  }

  bool Value(int depth) {
    if (depth > kMaxJsonDepth || i_ >= text_.size()) return false;
    switch (text_[i_]) {
      case '{':
        return Container(depth, '}', true);
      case '[':
        return Container(depth, ']', false);
      case '"':
        return String();
      case 't':
        return Word("true");
      case 'f':
        return Word("false");
      case 'n':
        return Word("null");
      default:
        return Number();
    }
  }

  // An object (members "key": value) or an array; text_[i_] is the opener.
  bool Container(int depth, char close, bool object) {
    ++i_;
    SkipSpace();
    if (At(close)) {
      ++i_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (object) {
        if (!At('"') || !String()) return false;
        SkipSpace();
        if (!At(':')) return false;
        ++i_;
        SkipSpace();
      }
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (At(',')) {
        ++i_;
        continue;
      }
      if (!At(close)) return false;
      ++i_;
      return true;
    }
  }

  bool Word(std::string_view word) {
    if (text_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool Number() {
    if (At('-')) ++i_;
    if (At('0')) {
      ++i_;
    } else {
      if (!Digit()) return false;
      while (Digit()) ++i_;
    }
    if (At('.')) {
      ++i_;
      if (!Digit()) return false;
      while (Digit()) ++i_;
    }
    if (At('e') || At('E')) {
      ++i_;
      if (At('+') || At('-')) ++i_;
      if (!Digit()) return false;
      while (Digit()) ++i_;
    }
    return true;
  }

  // Four hex digits after `\u`; -1 if malformed.
  int Hex4() {
    if (text_.size() - i_ < 4) return -1;
    int value = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text_[i_++];
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) return -1;
      value = value << 4 | digit;
    }
    return value;
  }

  bool String() {
    ++i_;  // the opening quote
    while (i_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        if (i_ >= text_.size()) return false;
        char e = text_[i_++];
        if (e == 'u') {
          int unit = Hex4();
          if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return false;
          if (unit >= 0xD800 && unit <= 0xDBFF) {  // must be followed by a low surrogate
            if (!Word("\\u")) return false;
            int low = Hex4();
            if (low < 0xDC00 || low > 0xDFFF) return false;
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                   e != 'r' && e != 't') {
          return false;
        }
        continue;
      }
      size_t length = Utf8SequenceLength(text_, i_);
      if (length == 0) return false;
      i_ += length;
    }
    return false;
  }

  std::string_view text_;
  size_t i_ = 0;
};

}  // namespace

size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  auto cont = [&](size_t k) { return k < text.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool IsJsonObject(std::string_view text) { return Checker(text).Object(); }

}  // namespace warden::audit
