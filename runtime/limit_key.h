// The bucket key of a `limit` declaration for one request.
//
//   limit model_calls: 600 per 1h by subject.id, context.ip
//
// The authentication front-end decodes a request into a Frame, computes each
// limit's key from the frame's values (bc::Limit::keys, filled by the code
// generator), looks up that key's token bucket and calls Frame::SetLimitCount
// before deciding. Two requests share a bucket exactly when their keys are
// equal.
//
// The key is the limit's name followed by one component per `by` entry,
// each introduced by '|' and tagged so that no two different tuples of
// values render alike:
//
//   -            an absent attribute (an optional one the request lacks; a
//                required one without a default); its own bucket
//   s<n>:<bytes> a string, length-prefixed ("a|b"+"c" never equals "a"+"b|c")
//   i<int>       int, decimal (scaled by 10^4), duration (ms), timestamp (ms)
//   b0 / b1      a bool
//   e<n>:<name>  an enum member (e#<index> if the program has no name for it)
//   p<text>      an IP address, "/prefix" for a network
//   a<n>:<name>  the action; a? for an action the program does not declare
//   t<n>:<name>  the resource type (declared or not)
//   ?            a component the frame cannot supply (a frame of another program)
//
// e.g. "model_calls|s5:alice|p10.0.0.7". An absent attribute with a
// built-in default (docs/language.md, "Built-in schema") renders as that
// default, the value the policy sees.
#ifndef WARDEN_RUNTIME_LIMIT_KEY_H_
#define WARDEN_RUNTIME_LIMIT_KEY_H_

#include <cstdint>
#include <string>

#include "runtime/bytecode/program.h"
#include "runtime/frame.h"

namespace warden::rt {

// Appends the canonical key of `limit` for the request in `frame` to *out
// (cleared first): the limit's name, then each key component rendered as
// above. Never allocates when *out has capacity; never throws. An
// out-of-range `limit` leaves *out empty. `frame` must be made for `program`.
void AppendLimitKey(const bc::Program& program, uint32_t limit, const Frame& frame,
                    std::string* out);

}  // namespace warden::rt

#endif  // WARDEN_RUNTIME_LIMIT_KEY_H_
