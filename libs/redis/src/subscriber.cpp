#include "alliance/redis/subscriber.hpp"

#include "alliance/core/log.hpp"
#include "alliance/core/string_hash.hpp"
#include "connection.hpp"

namespace alliance::redis {
namespace detail {

class SubscriberImpl : public Connection {
 public:
  SubscriberImpl(asio::any_io_executor ex, Options opts, Subscriber::MessageHandler on_message,
                 std::function<void()> on_reconnect, Subscriber::Filter filter)
      : Connection(std::move(ex), std::move(opts), "subscriber"),
        on_message_(std::move(on_message)),
        on_reconnect_(std::move(on_reconnect)),
        handler_filters_(filter == Subscriber::Filter::kHandler) {}

  void subscribe(const std::string& channel) {
    if (!desired_.insert(channel).second) return;
    if (connected() && link_) {
      std::vector<std::string> args{"SUBSCRIBE", channel};
      link_->send_pubsub(args);  // if refused, the link is dying and on_up resends
    }
  }

  void unsubscribe(const std::string& channel) {
    if (desired_.erase(channel) == 0) return;
    confirmed_.erase(channel);
    restoring_.erase(channel);
    if (connected() && link_) {
      std::vector<std::string> args{"UNSUBSCRIBE", channel};
      link_->send_pubsub(args);
    }
    maybe_restored();
  }

  std::size_t subscription_count() const { return desired_.size(); }

  void halt() {
    stop();
    wake_waiters();
  }

  void shutdown() {
    stop();
    on_message_ = nullptr;
    on_reconnect_ = nullptr;
    wake_waiters();
  }

  static asio::awaitable<bool> wait_subscribed(std::shared_ptr<SubscriberImpl> self, std::string channel,
                                               std::chrono::milliseconds timeout) {
    // Woken by every confirmation (and by stop): re-check until ours or the deadline.
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!self->confirmed_.contains(channel)) {
      if (!self->running() || std::chrono::steady_clock::now() >= deadline) co_return false;
      auto timer = std::make_shared<asio::steady_timer>(self->executor(), deadline);
      self->waiters_.push_back(timer);
      co_await timer->async_wait(use_tuple);
      std::erase(self->waiters_, timer);
    }
    co_return true;
  }

 protected:
  bool wants_push() const override { return true; }

  void on_up() override {
    confirmed_.clear();
    reconnect_pending_ = had_connection_;
    had_connection_ = true;
    restoring_ = desired_;
    if (!desired_.empty()) {
      std::vector<std::string> args{"SUBSCRIBE"};
      args.insert(args.end(), desired_.begin(), desired_.end());
      link_->send_pubsub(args);
    }
    maybe_restored();
  }

  void on_down() override {
    confirmed_.clear();
    restoring_.clear();
    reconnect_pending_ = false;
  }

  void on_push(const FlatReply& reply) override {
    // ["message", channel, payload] | ["subscribe", channel, count] | ["unsubscribe", channel, count]
    if (reply.value.type != Reply::Type::kArray || reply.count < 3) return;
    const std::string_view kind = reply.str(0);
    const std::string_view channel = reply.str(1);
    if (kind == "message") {
      // A message already in flight when we unsubscribed is not delivered (unless the
      // handler said it drops those itself).
      if (!on_message_ || (!handler_filters_ && !desired_.contains(channel))) return;
      // Views into the link's read buffer: the message is not copied. The handler may
      // destroy or reconfigure us (shutdown() clears on_message_), so it runs from a copy.
      auto handler = on_message_;
      handler(channel, reply.str(2));
    } else if (kind == "subscribe") {
      if (!desired_.contains(channel)) return;
      confirmed_.emplace(channel);
      if (auto it = restoring_.find(channel); it != restoring_.end()) restoring_.erase(it);
      wake_waiters();
      maybe_restored();
    } else if (kind == "unsubscribe") {
      if (auto it = confirmed_.find(channel); it != confirmed_.end()) confirmed_.erase(it);
    }
  }

 private:
  void maybe_restored() {
    if (!reconnect_pending_ || !restoring_.empty() || !connected()) return;
    reconnect_pending_ = false;
    log::debug("redis subscriptions restored", {{"name", options().name}, {"channels", desired_.size()}});
    if (auto cb = on_reconnect_) cb();
  }

  void wake_waiters() {
    for (auto& w : waiters_) w->cancel();
  }

  Subscriber::MessageHandler on_message_;
  std::function<void()> on_reconnect_;
  // Hashed and searched by string_view: every message is looked up by its channel.
  StringSet desired_;    // what the caller asked for
  StringSet confirmed_;  // what Redis confirmed on this connection
  StringSet restoring_;  // asked for on connect, not yet confirmed
  const bool handler_filters_;  // Filter::kHandler: no desired_ lookup per message
  bool had_connection_ = false;
  bool reconnect_pending_ = false;
  std::vector<std::shared_ptr<asio::steady_timer>> waiters_;
};

}  // namespace detail

Subscriber::Subscriber(asio::any_io_executor ex, Options opts, MessageHandler on_message,
                       std::function<void()> on_reconnect, Filter filter)
    : impl_(std::make_shared<detail::SubscriberImpl>(std::move(ex), std::move(opts), std::move(on_message),
                                                     std::move(on_reconnect), filter)) {}

Subscriber::~Subscriber() { impl_->shutdown(); }

void Subscriber::start() { impl_->start(); }
void Subscriber::stop() { impl_->halt(); }
void Subscriber::subscribe(const std::string& channel) { impl_->subscribe(channel); }
void Subscriber::unsubscribe(const std::string& channel) { impl_->unsubscribe(channel); }
bool Subscriber::connected() const { return impl_->connected(); }
std::size_t Subscriber::subscription_count() const { return impl_->subscription_count(); }

asio::awaitable<bool> Subscriber::wait_subscribed(const std::string& channel, std::chrono::milliseconds timeout) {
  return detail::SubscriberImpl::wait_subscribed(impl_, channel, timeout);
}

}  // namespace alliance::redis
