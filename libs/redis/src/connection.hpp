#pragma once
// Internal: hiredis async contexts driven by Asio, and the reconnect loop shared by
// Client and Subscriber. Everything here runs on one single-threaded executor.
//
// Re-entrancy rule: code called from inside hiredis (reply, connect, disconnect and
// pub/sub callbacks) only copies data and posts to the executor; it never frees a
// context or runs user code, so a user may destroy a Client from any completion.
#include <hiredis/async.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/redis/types.hpp"

namespace alliance::redis::detail {

Reply convert_reply(const redisReply* r);

// The commands of one command()/pipeline() call. Owned by the awaiting coroutine and by
// the Link until hiredis has called back for every command it accepted (a reply, or
// NULL when the context is freed), so hiredis' privdata never dangles.
struct Batch {
  struct Slot {
    Batch* batch;
    std::size_t index;
  };
  Batch(asio::any_io_executor ex, std::size_t n) : timer(ex), replies(n), slots(n) {}

  void finish() {
    done = true;
    timer.cancel();  // wakes the awaiting coroutine (posted, never inline)
  }

  asio::steady_timer timer;        // the command timeout, cancelled on completion
  std::vector<Reply> replies;
  std::vector<Slot> slots;         // privdata for each hiredis callback
  std::size_t registered = 0;      // callbacks hiredis accepted
  std::size_t answered = 0;        // callbacks hiredis has made
  std::optional<Error> error;
  bool done = false;               // the coroutine's result is decided
};

enum class LinkEvent { kConnected, kConnectFailed, kLost };

// One hiredis async context and the Asio descriptor watching its fd. A new Link is made
// per connection attempt. Owned by shared_ptr: hiredis hooks hold a raw pointer (valid
// until the context is freed), Asio wait handlers hold a shared_ptr.
class Link : public std::enable_shared_from_this<Link> {
 public:
  // Called from inside hiredis: must only post.
  using Listener = std::function<void(LinkEvent, std::string why)>;
  // A pub/sub reply (subscribe confirmations and messages), called from inside hiredis.
  using PushListener = std::function<void(Reply)>;

  explicit Link(asio::any_io_executor ex);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Starts a non-blocking connect to opts.host:opts.port. With a password, the link
  // reports kConnected only once Redis accepted AUTH opts.user opts.password (a refusal
  // is kConnectFailed). Returns an error text if it could not even start.
  std::optional<std::string> open(const Options& opts, Listener listener, PushListener push_listener = {});
  // Frees the context now: pending commands complete with kUnavailable; no listener call.
  void close();
  bool alive() const { return ac_ != nullptr; }

  // Queues the commands of `batch` (their replies fill it). Returns false, with
  // batch->error set, if hiredis refused a command (the context is closing).
  bool send(const std::shared_ptr<Batch>& batch, const std::vector<std::vector<std::string>>& commands);
  // Sends SUBSCRIBE/UNSUBSCRIBE; replies go to the push listener.
  bool send_pubsub(const std::vector<std::string>& args);

 private:
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_push(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_auth(redisAsyncContext* ac, void* reply, void* privdata);
  static void add_read(void* p);
  static void del_read(void* p);
  static void add_write(void* p);
  static void del_write(void* p);
  static void cleanup(void* p);

  void arm_read();
  void arm_write();
  void notify(LinkEvent e, std::string why);

  asio::posix::stream_descriptor fd_;
  redisAsyncContext* ac_ = nullptr;  // null once hiredis freed it
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  bool closing_ = false;             // we freed it: no listener calls
  Listener listener_;
  PushListener push_listener_;
  std::string user_, password_;      // for AUTH on connect; empty password: no AUTH
  std::unordered_map<Batch*, std::shared_ptr<Batch>> inflight_;
};

// The reconnect loop: owns the current Link, connect timeout, backoff and outage logs.
// Subclasses react to the connection coming up or going down.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::any_io_executor ex, Options opts, std::string kind);
  virtual ~Connection();

  void start();
  void stop();
  bool connected() const { return connected_; }
  bool running() const { return running_; }
  const Options& options() const { return opts_; }
  const asio::any_io_executor& executor() const { return ex_; }

  // Completes true when connected, false on timeout or stop. Holds `self` alive.
  static asio::awaitable<bool> wait_connected(std::shared_ptr<Connection> self, std::chrono::milliseconds timeout);

 protected:
  virtual void on_up() {}
  virtual void on_down() {}
  // Pub/sub replies for subscriber connections (on the executor, in arrival order).
  virtual void on_push(Reply) {}
  virtual bool wants_push() const { return false; }

  std::shared_ptr<Link> link_;  // current link, connected or connecting

 private:
  void attempt();
  void on_event(const std::shared_ptr<Link>& link, LinkEvent e, const std::string& why);
  void failed(const std::string& why);
  void schedule_retry();

  asio::any_io_executor ex_;
  Options opts_;
  std::string kind_;  // "client" | "subscriber", for logs
  asio::steady_timer connect_timer_;
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_;
  bool running_ = false;
  bool connected_ = false;
  bool in_outage_ = false;
  std::chrono::steady_clock::time_point outage_start_{};
  std::chrono::steady_clock::time_point up_since_{};  // when the current connection came up
  std::vector<std::shared_ptr<asio::steady_timer>> connect_waiters_;
};

}  // namespace alliance::redis::detail
