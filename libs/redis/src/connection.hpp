#pragma once
// Internal: one Redis connection (Link) and the reconnect loop shared by Client and
// Subscriber. hiredis is used for the protocol only (a redisReader parses command
// replies; commands are encoded by append_command, command_text.hpp); a subscribed connection's replies
// are read in place (flat_reply.hpp). The bytes go over a Transport (TCP, or TLS when
// Options::tls is set). Everything here runs on one single-threaded executor.
//
// Re-entrancy rule: a Link runs user code only through its push listener, which is
// called inline with views into the read buffer (a message is never copied); the Link
// looks at ended_ after each call, so the listener may close it or destroy its owner.
// The event listener only posts, and close() only fails the commands still waiting
// (their coroutines wake later, posted), so a user may destroy a Client from any completion.
#include <hiredis/read.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/redis/types.hpp"
#include "flat_reply.hpp"
#include "transport.hpp"

struct redisReply;

namespace alliance::redis::detail {

Reply convert_reply(const redisReply* r);

// The commands of one command()/pipeline() call. Shared by the awaiting coroutine and
// the Link, which holds it until every reply it owes has arrived or the link ended.
struct Batch {
  Batch(asio::any_io_executor ex, std::size_t n) : timer(ex), replies(n) {}

  void finish() {
    done = true;
    timer.cancel();  // wakes the awaiting coroutine (posted, never inline)
  }

  asio::steady_timer timer;        // the command timeout, cancelled on completion
  std::vector<Reply> replies;
  std::size_t answered = 0;        // replies received
  std::optional<Error> error;
  bool done = false;               // the coroutine's result is decided
};

enum class LinkEvent { kConnected, kConnectFailed, kLost };

// One connection attempt and, once up, the connection: connects (TLS when configured),
// logs in with AUTH, writes what is queued and hands each reply to whoever waits for
// it, in order. A new Link is made per attempt. Owned by shared_ptr: its two coroutines
// (reading, writing) hold it until they end.
class Link : public std::enable_shared_from_this<Link> {
 public:
  // Called on the executor from the Link's coroutines: must only post.
  using Listener = std::function<void(LinkEvent, std::string why)>;
  // A pub/sub reply (subscribe confirmations and messages), called inline from the
  // reading coroutine; the views in it are valid during the call only.
  using PushListener = std::function<void(const FlatReply&)>;

  explicit Link(asio::any_io_executor ex);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Starts connecting to opts.host:opts.port. With a password, the link reports
  // kConnected only once Redis accepted AUTH opts.user opts.password (a refusal is
  // kConnectFailed). With a push listener, every array reply that answers no command
  // (pub/sub) goes to it, and an error reply that answers none ends the link, as a
  // refused SUBSCRIBE does.
  void open(const Options& opts, Listener listener, PushListener push_listener = {});
  // Closes now: pending commands complete with kUnavailable; no listener call.
  void close();
  bool alive() const { return !ended_; }

  // Queues the commands of `batch` (their replies fill it). Returns false, with
  // batch->error set, if the link is not up.
  bool send(const std::shared_ptr<Batch>& batch, const std::vector<std::vector<std::string>>& commands);
  // Sends SUBSCRIBE/UNSUBSCRIBE; replies go to the push listener.
  bool send_pubsub(const std::vector<std::string>& args);

 private:
  // A reply owed: to a batch's command, or to AUTH (batch null).
  struct Owed {
    std::shared_ptr<Batch> batch;
    std::size_t index = 0;
  };

  static asio::awaitable<void> run(std::shared_ptr<Link> self, Options opts);
  static asio::awaitable<void> write_loop(std::shared_ptr<Link> self);
  void queue(const std::vector<std::string>& args);
  // Hands every complete reply in [begin, end) of a subscribed link's buffer on and
  // advances `begin`; false once the link has ended.
  bool take_flat_replies(const char* data, std::size_t& begin, std::size_t end);
  void on_reply(const redisReply* r);
  void on_flat_reply(const FlatReply& r);
  void answer(Owed o, Reply reply);
  void on_auth(bool accepted, std::string_view refusal);
  void end(std::string why);  // the connection is gone: fail what waits, tell the listener
  void fail_owed();
  void notify(LinkEvent e, std::string why);

  Transport transport_;
  asio::steady_timer wake_;  // wakes write_loop when out_ has bytes
  redisReader* reader_;
  std::string out_, writing_;
  std::deque<Owed> owed_;
  Listener listener_;
  PushListener push_listener_;
  std::string user_;         // for the AUTH refusal's message
  bool up_ = false;          // kConnected reported
  bool ended_ = false;       // no more I/O
  bool closing_ = false;     // we closed it: no listener calls
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
  // Pub/sub replies for subscriber connections (on the executor, in arrival order),
  // called from the link's reading coroutine: the views are valid during the call only.
  virtual void on_push(const FlatReply&) {}
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
