#pragma once
// Blocking HTTPS over one keep-alive TLS connection (Boost.Beast + OpenSSL behind
// a pimpl, so including this header costs nothing).
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alliance/client/endpoint.hpp"
#include "alliance/core/result.hpp"

namespace alliance::client {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined with ", "

  // The header's value, or "" when absent. `name` must be lower case.
  std::string header(std::string_view name) const;
};

// One keep-alive HTTPS connection to one endpoint, opened on first use and
// reopened transparently when the server has closed it. Every call blocks the
// calling thread (it runs a private io_context) and honours its timeout. Not
// thread-safe: one thread at a time, e.g. one HttpsClient per load-generator thread.
class HttpsClient {
 public:
  explicit HttpsClient(Endpoint ep);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Sends one request and reads its response; any status is a successful
  // Result (use error_from_response() for non-2xx). `bearer` becomes
  // "Authorization: Bearer <bearer>"; a non-empty body is sent as
  // application/json unless extra_headers name a content-type.
  // Transport failures: connection refused, TLS failure -> kUnavailable;
  // no response within `timeout` (connect + TLS + write + read) -> kDeadlineExceeded.
  // A request on a reused connection that the server had already closed is
  // retried once on a new connection (it never reached the server).
  Result<HttpResponse> request(std::string_view method, std::string_view target,
                               std::string_view body = {}, std::string_view bearer = {},
                               std::chrono::milliseconds timeout = std::chrono::seconds(10),
                               const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

  // For tests: opens a fresh connection, writes exactly `bytes` over TLS (e.g. a
  // hand-made oversized header) and reads one response. The connection is kept
  // for later requests only if that response allows keep-alive.
  Result<HttpResponse> raw(std::string_view bytes, std::chrono::milliseconds timeout);

  // Drops the connection (the next request opens a new one).
  void disconnect();
  // How many TLS connections this client has opened so far (keep-alive checks).
  int connections_opened() const;

  const Endpoint& endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alliance::client
