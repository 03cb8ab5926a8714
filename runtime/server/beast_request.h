// The API's view (HttpRequest) of a request parsed by Boost.Beast: shared by
// the transport (http_server.cc) and the HTTP fuzzer, so both hand the API
// exactly the same thing.
#ifndef WARDEN_RUNTIME_SERVER_BEAST_REQUEST_H_
#define WARDEN_RUNTIME_SERVER_BEAST_REQUEST_H_

#include <iterator>
#include <string_view>

#include <boost/beast/http.hpp>

#include "runtime/server/api.h"

namespace warden::server {

// A request id is echoed into a response header: only short ids of visible
// ASCII characters are kept.
inline std::string_view SafeRequestId(std::string_view id) {
  if (id.size() > 128) return {};
  for (char c : id) {
    if (c < 0x21 || c > 0x7E) return {};
  }
  return id;
}

// RFC 9112, 6.1: a request whose Transfer-Encoding does not end in chunked
// has no reliable length and must be refused with 400. Warden decodes no
// other coding, so the one accepted value is a single "chunked" (a
// Content-Length beside it is then ignored, as Beast does).
inline bool TransferEncodingAccepted(
    const boost::beast::http::request<boost::beast::http::string_body>& message) {
  namespace http = boost::beast::http;
  auto [first, last] = message.equal_range(http::field::transfer_encoding);
  if (first == last) return true;
  std::string_view value = first->value();
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return std::next(first) == last && boost::beast::iequals(value, "chunked");
}

// Views into `message`, valid while it is.
inline HttpRequest RequestFromBeast(
    const boost::beast::http::request<boost::beast::http::string_body>& message) {
  namespace http = boost::beast::http;
  HttpRequest request;
  request.method = message.method_string();
  request.target = message.target();
  auto field = message.find(http::field::content_type);
  if (field != message.end()) request.content_type = field->value();
  field = message.find("x-request-id");
  if (field != message.end()) request.request_id = SafeRequestId(field->value());
  request.body = message.body();
  return request;
}

}  // namespace warden::server

#endif  // WARDEN_RUNTIME_SERVER_BEAST_REQUEST_H_
