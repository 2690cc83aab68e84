#include "connection.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <csignal>
#include <mutex>

#include "alliance/core/log.hpp"

namespace alliance::redis::detail {

Reply convert_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert_reply(r->element[i]));
      break;
    default:
      out.type = Reply::Type::kNil;
      break;
  }
  return out;
}

// ---- Link -------------------------------------------------------------------

Link::Link(asio::any_io_executor ex) : fd_(std::move(ex)) {}

Link::~Link() { close(); }

std::optional<std::string> Link::open(const Options& opts, Listener listener, PushListener push_listener) {
  listener_ = std::move(listener);
  push_listener_ = std::move(push_listener);
  user_ = opts.user;
  password_ = opts.password;
  redisAsyncContext* ac = redisAsyncConnect(opts.host.c_str(), opts.port);
  if (ac == nullptr) return std::string("out of memory");
  if (ac->err != 0) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);  // no hooks attached yet: just frees and closes the fd
    return why;
  }
  boost::system::error_code ec;
  fd_.assign(ac->c.fd, ec);
  if (ec) {
    redisAsyncFree(ac);
    return "cannot watch socket: " + ec.message();
  }
  ac_ = ac;
  ac->data = this;
  // Hooks first: redisAsyncSetConnectCallback calls addWrite right away.
  ac->ev.data = this;
  ac->ev.addRead = &Link::add_read;
  ac->ev.delRead = &Link::del_read;
  ac->ev.addWrite = &Link::add_write;
  ac->ev.delWrite = &Link::del_write;
  ac->ev.cleanup = &Link::cleanup;
  redisAsyncSetDisconnectCallback(ac, &Link::on_disconnect);
  redisAsyncSetConnectCallback(ac, &Link::on_connect);
  return std::nullopt;
}

void Link::close() {
  if (ac_ == nullptr) return;
  closing_ = true;
  redisAsyncContext* ac = ac_;
  // Pending callbacks run now with NULL replies (their batches fail with kUnavailable),
  // then cleanup() releases the descriptor; hiredis closes the fd itself.
  redisAsyncFree(ac);
  ac_ = nullptr;
}

bool Link::send(const std::shared_ptr<Batch>& batch, const std::vector<std::vector<std::string>>& commands) {
  if (ac_ == nullptr || closing_) {
    batch->error = make_error(Code::kUnavailable, "redis: not connected");
    return false;
  }
  inflight_.emplace(batch.get(), batch);
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  bool ok = true;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto& cmd = commands[i];
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    batch->slots[i] = Batch::Slot{batch.get(), i};
    if (redisAsyncCommandArgv(ac_, &Link::on_reply, &batch->slots[i], static_cast<int>(argv.size()), argv.data(),
                              lens.data()) != REDIS_OK) {
      batch->error = make_error(Code::kUnavailable, "redis: connection is closing");
      ok = false;
      break;
    }
    ++batch->registered;
  }
  if (batch->registered == 0) inflight_.erase(batch.get());
  return ok;
}

bool Link::send_pubsub(const std::vector<std::string>& args) {
  if (ac_ == nullptr || closing_ || args.empty()) return false;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ac_, &Link::on_push, this, static_cast<int>(argv.size()), argv.data(),
                               lens.data()) == REDIS_OK;
}

void Link::notify(LinkEvent e, std::string why) {
  if (closing_ || !listener_) return;
  listener_(e, std::move(why));
}

void Link::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Link*>(ac->data);
  if (status == REDIS_OK && !self->password_.empty()) {
    // AUTH goes first; the link is up only once Redis accepts it (on_auth).
    const char* argv[] = {"AUTH", self->user_.c_str(), self->password_.c_str()};
    const std::size_t lens[] = {4, self->user_.size(), self->password_.size()};
    if (redisAsyncCommandArgv(self->ac_, &Link::on_auth, nullptr, 3, argv, lens) != REDIS_OK)
      self->notify(LinkEvent::kConnectFailed, "could not send AUTH");
  } else if (status == REDIS_OK) {
    self->notify(LinkEvent::kConnected, {});
  } else {
    // hiredis frees the context right after this returns.
    self->notify(LinkEvent::kConnectFailed, ac->errstr ? ac->errstr : "connect failed");
  }
}

void Link::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Link*>(ac->data);
  self->notify(LinkEvent::kLost, status == REDIS_OK ? "closed" : (ac->errstr ? ac->errstr : "connection lost"));
}

void Link::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* link = static_cast<Link*>(ac->data);
  auto* slot = static_cast<Batch::Slot*>(privdata);
  Batch* b = slot->batch;
  if (!b->done) {
    if (reply == nullptr) {
      if (!b->error) b->error = make_error(Code::kUnavailable, "redis: connection lost before the reply");
    } else {
      b->replies[slot->index] = convert_reply(static_cast<redisReply*>(reply));
    }
  }
  ++b->answered;
  if (!b->done && (b->error || b->answered == b->replies.size())) b->finish();
  // Last use of b: hiredis owes it no more callbacks.
  if (b->answered == b->registered) link->inflight_.erase(b);
}

void Link::on_auth(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<Link*>(ac->data);
  if (reply == nullptr) return;  // the context is being freed: on_disconnect reports it
  const auto* r = static_cast<redisReply*>(reply);
  if (r->type == REDIS_REPLY_STATUS) {
    self->notify(LinkEvent::kConnected, {});
  } else {
    // Redis's refusal ("WRONGPASS invalid username-password pair ...") names no secret.
    std::string why = "AUTH as user \"" + self->user_ + "\" refused";
    if (r->type == REDIS_REPLY_ERROR) why += ": " + std::string(r->str, r->len);
    self->notify(LinkEvent::kConnectFailed, std::move(why));
  }
}

void Link::on_push(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<Link*>(ac->data);
  if (reply == nullptr || self->closing_ || !self->push_listener_) return;
  self->push_listener_(convert_reply(static_cast<redisReply*>(reply)));
}

void Link::add_read(void* p) {
  auto* self = static_cast<Link*>(p);
  self->want_read_ = true;
  self->arm_read();
}
void Link::del_read(void* p) { static_cast<Link*>(p)->want_read_ = false; }
void Link::add_write(void* p) {
  auto* self = static_cast<Link*>(p);
  self->want_write_ = true;
  self->arm_write();
}
void Link::del_write(void* p) { static_cast<Link*>(p)->want_write_ = false; }

void Link::cleanup(void* p) {
  auto* self = static_cast<Link*>(p);
  self->want_read_ = self->want_write_ = false;
  // hiredis owns the fd and closes it: only stop watching it (this cancels our waits).
  if (self->fd_.is_open()) self->fd_.release();
  self->ac_ = nullptr;
}

// A wait that finds its wish withdrawn (delRead) does nothing; addRead re-arms and a
// still-readable fd fires again, so nothing is lost.
void Link::arm_read() {
  if (read_armed_ || ac_ == nullptr) return;
  read_armed_ = true;
  fd_.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    self->read_armed_ = false;
    if (ec || self->ac_ == nullptr || !self->want_read_) return;
    redisAsyncHandleRead(self->ac_);  // may free the context (EOF): ac_ becomes null
    if (self->ac_ != nullptr && self->want_read_) self->arm_read();
  });
}

void Link::arm_write() {
  if (write_armed_ || ac_ == nullptr) return;
  write_armed_ = true;
  fd_.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
    self->write_armed_ = false;
    if (ec || self->ac_ == nullptr || !self->want_write_) return;
    redisAsyncHandleWrite(self->ac_);
    if (self->ac_ != nullptr && self->want_write_) self->arm_write();
  });
}

// ---- Connection -----------------------------------------------------------

Connection::Connection(asio::any_io_executor ex, Options opts, std::string kind)
    : ex_(ex),
      opts_(std::move(opts)),
      kind_(std::move(kind)),
      connect_timer_(ex),
      retry_timer_(ex),
      backoff_(opts_.reconnect_min) {}

Connection::~Connection() {
  if (link_) link_->close();
}

void Connection::start() {
  // hiredis writes with write(2): a write to a socket Redis already closed would raise
  // SIGPIPE and kill the process. Network services want it ignored anyway.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  if (running_) return;
  running_ = true;
  backoff_ = opts_.reconnect_min;
  attempt();
}

void Connection::stop() {
  if (!running_ && !link_) return;
  running_ = false;
  connect_timer_.cancel();
  retry_timer_.cancel();
  bool was_up = connected_;
  connected_ = false;
  if (auto link = std::move(link_)) link->close();
  for (auto& w : connect_waiters_) w->cancel();
  connect_waiters_.clear();
  if (was_up) on_down();
}

void Connection::attempt() {
  if (!running_) return;
  auto link = std::make_shared<Link>(ex_);
  std::weak_ptr<Connection> weak = weak_from_this();
  std::weak_ptr<Link> weak_link = link;
  auto ex = ex_;
  Link::Listener listener = [weak, weak_link, ex](LinkEvent e, std::string why) {
    asio::post(ex, [weak, weak_link, e, why = std::move(why)] {
      auto self = weak.lock();
      auto link = weak_link.lock();
      if (self && link) self->on_event(link, e, why);
    });
  };
  Link::PushListener push_listener;
  if (wants_push()) {
    push_listener = [weak, weak_link, ex](Reply reply) {
      asio::post(ex, [weak, weak_link, reply = std::move(reply)]() mutable {
        auto self = weak.lock();
        auto link = weak_link.lock();
        if (self && link && link == self->link_ && self->connected_) self->on_push(std::move(reply));
      });
    };
  }
  if (auto err = link->open(opts_, std::move(listener), std::move(push_listener))) {
    failed(*err);
    return;
  }
  link_ = link;
  connect_timer_.expires_after(opts_.connect_timeout);
  connect_timer_.async_wait([weak, weak_link](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    auto link = weak_link.lock();
    if (!self || !link || link != self->link_ || self->connected_) return;
    self->link_.reset();
    link->close();
    self->failed("connect timed out");
  });
}

void Connection::on_event(const std::shared_ptr<Link>& link, LinkEvent e, const std::string& why) {
  if (link != link_ || !running_) return;  // an old link, or stopped meanwhile
  switch (e) {
    case LinkEvent::kConnected:
      if (!link->alive()) return;  // it died before we got here; kLost follows
      connect_timer_.cancel();
      connected_ = true;
      up_since_ = std::chrono::steady_clock::now();
      if (in_outage_) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                        outage_start_);
        log::info("redis reconnected", {{"name", opts_.name}, {"role", kind_}, {"host", opts_.host},
                                        {"port", opts_.port}, {"outage_ms", ms.count()}});
        in_outage_ = false;
      } else {
        log::debug("redis connected", {{"name", opts_.name}, {"role", kind_}, {"host", opts_.host},
                                       {"port", opts_.port}});
      }
      for (auto& w : connect_waiters_) w->cancel();
      connect_waiters_.clear();
      on_up();
      break;
    case LinkEvent::kConnectFailed:
    case LinkEvent::kLost: {
      bool was_up = connected_;
      connected_ = false;
      link_.reset();
      link->close();  // a refused AUTH leaves the connection open: close it (no-op if hiredis freed it)
      connect_timer_.cancel();
      // The retry delay starts over only after a connection that lasted: one Redis drops
      // right away (a SUBSCRIBE the ACL refuses) keeps backing off instead of looping.
      if (was_up && std::chrono::steady_clock::now() - up_since_ >= opts_.reconnect_max)
        backoff_ = opts_.reconnect_min;
      if (was_up) on_down();
      failed(why);
      break;
    }
  }
}

void Connection::failed(const std::string& why) {
  if (!running_) return;
  if (!in_outage_) {
    in_outage_ = true;
    outage_start_ = std::chrono::steady_clock::now();
    log::warn("redis unavailable, retrying", {{"name", opts_.name}, {"role", kind_}, {"host", opts_.host},
                                              {"port", opts_.port}, {"error", why}});
  }
  schedule_retry();
}

void Connection::schedule_retry() {
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, opts_.reconnect_max);
  std::weak_ptr<Connection> weak = weak_from_this();
  retry_timer_.async_wait([weak](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->attempt();
  });
}

asio::awaitable<bool> Connection::wait_connected(std::shared_ptr<Connection> self, std::chrono::milliseconds timeout) {
  if (self->connected_) co_return true;
  if (!self->running_) co_return false;
  auto timer = std::make_shared<asio::steady_timer>(self->ex_, timeout);
  self->connect_waiters_.push_back(timer);
  co_await timer->async_wait(use_tuple);
  std::erase(self->connect_waiters_, timer);
  co_return self->connected_;
}

}  // namespace alliance::redis::detail
