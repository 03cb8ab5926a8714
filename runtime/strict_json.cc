#include "runtime/strict_json.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace warden {
namespace {

using nlohmann::json;

// An input iterator over the text that records how far nlohmann's lexer has
// read, so a duplicate key can be given a line.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* p, const char** read) : p_(p), read_(read) {}
  reference operator*() const {
    *read_ = p_;
    return *p_;
  }
  TrackingIterator& operator++() {
    ++p_;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator old = *this;
    ++p_;
    return old;
  }
  bool operator==(const TrackingIterator& other) const { return p_ == other.p_; }
  bool operator!=(const TrackingIterator& other) const { return p_ != other.p_; }

 private:
  const char* p_;
  const char** read_;
};

// One open object or array, for the duplicate check and the path.
// The key set is hashed: a client's body may hold an object of 100,000 keys,
// and a linear search per key would make reading it quadratic.
struct Frame {
  bool object = false;
  absl::flat_hash_set<std::string> keys;  // an object's keys so far
  std::string last_key;                   // for the path
  bool has_key = false;
  size_t index = 0;  // an array's next element
};

// A path segment: `.key`, or `[""]` (JSON-quoted) for a key that would be
// ambiguous bare: empty, or holding `.`, `[` or `]`.
void AppendKey(const std::string& key, std::string* path) {
  if (!key.empty() && key.find_first_of(".[]") == std::string::npos) {
    if (!path->empty()) path->push_back('.');
    path->append(key);
    return;
  }
  absl::StrAppend(path, "[", json(key).dump(-1, ' ', false, json::error_handler_t::replace), "]");
}

struct Walk {
  int max_depth = 0;
  std::vector<Frame> frames;
  bool too_deep = false;
  bool duplicate = false;
  std::string duplicate_path;
  const char* duplicate_at = nullptr;
  const char* read = nullptr;  // the lexer's last character

  std::string Path() const {
    std::string path;
    for (const Frame& frame : frames) {
      if (frame.object) {
        if (frame.has_key) AppendKey(frame.last_key, &path);
      } else {
        absl::StrAppend(&path, "[", frame.index, "]");
      }
    }
    return path;
  }

  // A finished value: the element after it in an array gets the next index.
  void ValueDone() {
    if (!frames.empty() && !frames.back().object) ++frames.back().index;
  }

  void Event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames.emplace_back().object = event == json::parse_event_t::object_start;
        if (static_cast<int>(frames.size()) > max_depth) too_deep = true;
        break;
      case json::parse_event_t::key: {
        if (frames.empty() || !parsed.is_string()) break;
        const std::string& key = parsed.get_ref<const std::string&>();
        Frame& frame = frames.back();
        frame.last_key = key;  // Path() ends with it
        frame.has_key = true;
        if (!frame.keys.insert(key).second && !duplicate) {
          duplicate = true;
          duplicate_path = Path();
          duplicate_at = read;
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        ValueDone();
        break;
      case json::parse_event_t::value:
        ValueDone();
        break;
    }
  }
};

}  // namespace

bool ParseStrictJson(std::string_view text, const StrictJsonOptions& options, json* out,
                     StrictJsonError* error) {
  Walk walk;
  walk.max_depth = options.max_depth;
  walk.read = text.data();
  Walk* w = &walk;
  // The callback cannot stop the parser: it records, and the result is
  // refused afterwards.
  auto callback = [w](int, json::parse_event_t event, json& parsed) {
    w->Event(event, parsed);
    return true;
  };
  const char* begin = text.data();
  const char* end = begin + text.size();
  *out = json::parse(TrackingIterator(begin, &walk.read), TrackingIterator(end, &walk.read),
                     callback, /*allow_exceptions=*/false, options.ignore_comments);
  StrictJsonError result;
  if (out->is_discarded()) {
    result.kind = StrictJsonError::Kind::kSyntax;
    result.message = "not valid JSON";
  } else if (walk.too_deep) {
    result.kind = StrictJsonError::Kind::kTooDeep;
    result.message = absl::StrCat("JSON nested deeper than ", options.max_depth);
  } else if (walk.duplicate) {
    result.kind = StrictJsonError::Kind::kDuplicateKey;
    result.path = walk.duplicate_path;
    result.line = 1 + static_cast<size_t>(std::count(begin, walk.duplicate_at, '\n'));
    result.message = absl::StrCat("duplicate key `", result.path, "` (line ", result.line, ")");
  }
  if (error != nullptr) *error = result;
  if (result.kind == StrictJsonError::Kind::kNone) return true;
  *out = json();
  return false;
}

}  // namespace warden
