#pragma once
// Subscriber: one Redis pub/sub connection (a subscribed connection cannot run other
// commands: publish through a Client). Lives on one single-threaded executor like
// Client; not thread-safe. Subscriptions are remembered and restored after every
// reconnect. Pub/sub is at-most-once: treat a message as a wake-up and resync durable
// state in on_reconnect, which is called once the subscriptions are restored.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "alliance/core/asio.hpp"
#include "alliance/redis/types.hpp"

namespace alliance::redis {

namespace detail {
class SubscriberImpl;
}

class Subscriber {
 public:
  // Called on the executor for each message on a channel we are subscribed to. It may call
  // subscribe/unsubscribe or destroy the Subscriber.
  using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;

  // Who drops a message on a channel that is no longer wanted. kSubscriber (the default)
  // looks each message's channel up in the subscriptions, so nothing arrives for a channel
  // after unsubscribe(). kHandler skips that lookup: a message Redis sent before it saw
  // the UNSUBSCRIBE may still reach the handler, which must ignore channels it no longer
  // wants (the gateway's push hub finds each message's user anyway: one lookup, not two).
  enum class Filter { kSubscriber, kHandler };

  // `on_reconnect` runs after a reconnect (not the first connect) once Redis has
  // confirmed every remembered subscription.
  Subscriber(asio::any_io_executor ex, Options opts, MessageHandler on_message,
             std::function<void()> on_reconnect = {}, Filter filter = Filter::kSubscriber);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void start();   // connect in the background, reconnect with backoff forever
  void stop();    // close; no handler is called after this returns

  void subscribe(const std::string& channel);    // idempotent; sent now or on (re)connect
  void unsubscribe(const std::string& channel);  // with kSubscriber, no message for it is delivered after this

  bool connected() const;
  std::size_t subscription_count() const;  // channels asked for, confirmed or not
  // True once Redis has confirmed `channel` on the current connection; false on timeout.
  asio::awaitable<bool> wait_subscribed(const std::string& channel, std::chrono::milliseconds timeout);

 private:
  std::shared_ptr<detail::SubscriberImpl> impl_;
};

}  // namespace alliance::redis
