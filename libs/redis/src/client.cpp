#include "alliance/redis/client.hpp"

#include "connection.hpp"

namespace alliance::redis {
namespace detail {

class ClientImpl : public Connection {
 public:
  ClientImpl(asio::any_io_executor ex, Options opts) : Connection(std::move(ex), std::move(opts), "client") {}

  // Runs on the executor; touches the ClientImpl only before its first suspension, so
  // the Client may be destroyed while it waits (the batch then fails with kUnavailable).
  static asio::awaitable<Result<std::vector<Reply>>> run(std::shared_ptr<ClientImpl> self,
                                                          std::vector<std::vector<std::string>> commands,
                                                          std::chrono::milliseconds timeout) {
    if (commands.empty()) co_return std::vector<Reply>{};
    for (const auto& c : commands) {
      if (c.empty()) co_return invalid_argument("args", "redis: empty command");
    }
    if (!self->connected() || !self->link_) co_return make_error(Code::kUnavailable, "redis: not connected");
    auto batch = std::make_shared<Batch>(self->executor(), commands.size());
    batch->timer.expires_after(timeout);
    if (!self->link_->send(batch, commands)) co_return *batch->error;
    self.reset();
    co_await batch->timer.async_wait(use_tuple);
    if (!batch->done) {
      batch->done = true;  // late replies are dropped
      co_return make_error(Code::kDeadlineExceeded, "redis: no reply within " + std::to_string(timeout.count()) + " ms");
    }
    if (batch->error) co_return *batch->error;
    co_return std::move(batch->replies);
  }
};

}  // namespace detail

Client::Client(asio::any_io_executor ex, Options opts)
    : impl_(std::make_shared<detail::ClientImpl>(std::move(ex), std::move(opts))) {}

Client::~Client() { impl_->stop(); }

void Client::start() { impl_->start(); }
void Client::stop() { impl_->stop(); }
bool Client::connected() const { return impl_->connected(); }
const Options& Client::options() const { return impl_->options(); }

asio::awaitable<bool> Client::wait_connected(std::chrono::milliseconds timeout) {
  return detail::Connection::wait_connected(impl_, timeout);
}

namespace {
asio::awaitable<Result<Reply>> single(asio::awaitable<Result<std::vector<Reply>>> batch) {
  auto r = co_await std::move(batch);
  if (!r) co_return std::move(r).error();
  co_return std::move(r->front());
}
}  // namespace

asio::awaitable<Result<Reply>> Client::command(std::vector<std::string> args) {
  return command(std::move(args), impl_->options().command_timeout);
}

asio::awaitable<Result<Reply>> Client::command(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  if (args.empty()) {
    // Keep the same shape as the other failures: an awaitable that yields the error.
    std::vector<std::vector<std::string>> none(1);
    return single(detail::ClientImpl::run(impl_, std::move(none), timeout));
  }
  std::vector<std::vector<std::string>> one;
  one.push_back(std::move(args));
  return single(detail::ClientImpl::run(impl_, std::move(one), timeout));
}

asio::awaitable<Result<std::vector<Reply>>> Client::pipeline(std::vector<std::vector<std::string>> commands) {
  auto timeout = impl_->options().command_timeout;
  return detail::ClientImpl::run(impl_, std::move(commands), timeout);
}

}  // namespace alliance::redis
