#pragma once
// One RPC call to a service listening on 127.0.0.1:`port` (a real binary under test),
// made on an io_context of its own, presenting the development certificate of `peer`
// ("gateway", "messaging", ...) and, when given, a `caller` as the gateway asserts it.
// `method` is the full name ("alliance.identity.v1.Identity/Login"); `server_name` is
// the service's certificate name. Throws std::runtime_error with no answer in 10 s.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "alliance/core/asio.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/net/tls.hpp"
#include "dev_certs.hpp"

namespace alliance::testing {

template <class Resp, class Req>
Result<Resp> call_service(std::uint16_t port, const std::string& server_name, const std::string& peer,
                          const std::string& method, const Req& req, const rpc::v1::Caller& caller = {}) {
  using namespace std::chrono_literals;
  const auto& certs = dev_certs();
  asio::io_context io;
  auto tls = net::make_rpc_client_context({certs.ca(), certs.cert(peer), certs.key(peer)});
  net::RpcClient client(io.get_executor(), tls, {.host = "127.0.0.1", .port = port, .server_name = server_name});
  std::optional<Result<Resp>> out;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await client.call<Resp>(method, req, caller)); },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!out && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  if (!out) throw std::runtime_error("no answer from " + server_name + " to " + method);
  return std::move(*out);
}

}  // namespace alliance::testing
