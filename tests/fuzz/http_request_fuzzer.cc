// libFuzzer target: the decision server's request path without sockets.
//
// An input that starts like an HTTP request (an upper-case method letter) is
// fed to a Boost.Beast request parser with the server's header and body
// limits, as the transport (runtime/server/http_server.cc) does; every
// request that parses (pipelined ones too) goes to ApiWorker::Handle, on the
// public or the admin routes by the last byte's low bit. Any other input is
// one request body, sent straight to a decision endpoint chosen by its first
// byte, so the JSON paths (decide, batch, AuthZEN) are fuzzed hard.
//
// The policies are examples/payments with its data.json, compiled once at
// start-up; the store's loader hands out that bundle, so /v1/reload works.
//
// Oracles: no crash or sanitizer report; no 500 (an exception escaped a
// handler); every application/json response is valid JSON (strict UTF-8);
// decision endpoints answer only with the documented statuses.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "compiler/driver.h"
#include "runtime/data_json.h"
#include "runtime/server/api.h"
#include "runtime/server/beast_request.h"
#include "runtime/server/config.h"
#include "runtime/server/metrics.h"
#include "runtime/server/policy_store.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using warden::server::ApiWorker;
using warden::server::HttpRequest;
using warden::server::HttpResponse;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One server: its configuration, policy store, metrics and one worker.
struct Server {
  warden::server::ServerConfig config;
  std::unique_ptr<warden::server::PolicyStore> store;
  warden::server::Metrics metrics;
  warden::server::ServerContext context;
  std::unique_ptr<ApiWorker> worker;

  Server(const warden::server::PolicySource& source, bool strict) {
    config.strict_requests = strict;
    config.limits.max_body_bytes = 64 << 10;
    config.limits.max_header_bytes = 8 << 10;
    config.limits.max_batch = 8;  // small, so that batch_too_large is reachable
    config.policies = "examples/payments";
    store = std::make_unique<warden::server::PolicyStore>(
        [&source]() -> absl::StatusOr<warden::server::PolicySource> { return source; });
    if (!store->Reload("start").ok()) std::abort();
    context.config = &config;
    context.store = store.get();
    context.metrics = &metrics;
    worker = std::make_unique<ApiWorker>(context);
  }
};

struct State {
  warden::server::PolicySource source;
  std::unique_ptr<Server> lenient;
  std::unique_ptr<Server> strict;
};

State* Build() {
  auto* state = new State;
  const std::string dir = std::string(WARDEN_SOURCE_DIR) + "/examples/payments";
  warden::BuildOptions options;
  options.compile.run_lints = false;
  auto bundle = warden::CompileToBundle(warden::PolicySources::Paths({dir}), options).Bytes();
  if (!bundle.ok()) std::abort();
  state->source.bundle = *std::move(bundle);
  auto data = warden::ParseDataJson(ReadFile(dir + "/data.json"));
  if (!data.ok()) std::abort();
  state->source.options.data = *std::move(data);
  state->lenient = std::make_unique<Server>(state->source, /*strict=*/false);
  state->strict = std::make_unique<Server>(state->source, /*strict=*/true);
  return state;
}

bool IsDecisionPath(std::string_view target) {
  const size_t query = target.find('?');
  const std::string_view path = target.substr(0, query);
  return path == "/v1/decide" || path == "/v1/decide/batch" || path == "/access/v1/evaluation" ||
         path == "/access/v1/evaluations";
}

void Check(const HttpRequest& request, const HttpResponse& response) {
  if (response.status == 500) {
    std::fprintf(stderr, "500 for %.*s %.*s: %s\n", static_cast<int>(request.method.size()),
                 request.method.data(), static_cast<int>(request.target.size()),
                 request.target.data(), response.body.c_str());
    std::abort();
  }
  if (response.content_type == "application/json" && !nlohmann::json::accept(response.body)) {
    std::fprintf(stderr, "invalid JSON response (%u): %s\n", response.status,
                 response.body.c_str());
    std::abort();
  }
  if (IsDecisionPath(request.target)) {
    switch (response.status) {
      case 200:
      case 400:
      case 404:  // on the admin routes
      case 405:
      case 413:
      case 415:
        break;
      default:
        std::fprintf(stderr, "unexpected status %u: %s\n", response.status, response.body.c_str());
        std::abort();
    }
  }
}

void Handle(Server& server, const HttpRequest& request, bool admin) {
  HttpResponse response;
  server.worker->Handle(request, admin, &response);
  Check(request, response);
}

// Parses and answers the pipelined requests in `input`, as a connection
// would, stopping at the first parse error or an incomplete request.
void FuzzHttp(Server& server, std::string_view input, bool admin) {
  for (int n = 0; n < 8 && !input.empty(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(server.config.limits.max_header_bytes));
    parser.body_limit(server.config.limits.max_body_bytes);
    parser.eager(true);
    beast::error_code ec;
    while (!input.empty() && !parser.is_done()) {
      const size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
      input.remove_prefix(used);
      if (ec == http::error::need_more) {
        ec = {};
        if (used == 0) return;  // the rest of the input is not enough
        continue;
      }
      if (ec) return;  // the transport answers 400, 413 or 431 and closes
      if (used == 0) return;
    }
    if (!parser.is_done()) return;
    const auto& message = parser.get();
    if (!warden::server::TransferEncodingAccepted(message)) return;  // 400, closed
    Handle(server, warden::server::RequestFromBeast(message), admin);
    if (!message.keep_alive()) return;
  }
}

constexpr std::string_view kBodyTargets[] = {"/v1/decide", "/v1/decide/batch",
                                             "/access/v1/evaluation", "/access/v1/evaluations"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static State* state = Build();
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const unsigned char first = data[0];
  if (first >= 'A' && first <= 'Z') {
    const unsigned char last = data[size - 1];
    Server& server = (last & 2) != 0 ? *state->strict : *state->lenient;
    FuzzHttp(server, input, /*admin=*/(last & 1) != 0);
    return 0;
  }
  // A bare body: the first byte picks the endpoint (bits 0-1) and the
  // strictness (bit 2); the rest is the body.
  Server& server = (first & 4) != 0 ? *state->strict : *state->lenient;
  HttpRequest request;
  request.method = "POST";
  request.target = kBodyTargets[first & 3];
  request.content_type = "application/json";
  request.body = input.substr(1);
  Handle(server, request, /*admin=*/false);
  return 0;
}
