#include "connection.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <csignal>
#include <exception>
#include <cstring>
#include <mutex>
#include <new>

#include "alliance/core/log.hpp"
#include "alliance/core/runtime.hpp"
#include "command_text.hpp"

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

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
}

Link::Link(asio::any_io_executor ex) : transport_(ex), wake_(ex), reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

Link::~Link() {
  close();
  redisReaderFree(reader_);
}

void Link::open(const Options& opts, Listener listener, PushListener push_listener) {
  listener_ = std::move(listener);
  push_listener_ = std::move(push_listener);
  user_ = opts.user;
  auto ex = wake_.get_executor();
  asio::co_spawn(ex, run(shared_from_this(), opts), log_escaped("redis connection"));
}

void Link::close() {
  if (closing_) return;
  closing_ = true;
  ended_ = true;
  fail_owed();
  transport_.close();
  wake_.cancel();
}

void Link::queue(const std::vector<std::string>& args) {
  if (out_.empty()) wake_.cancel();  // the writer sleeps only when out_ is empty
  append_command(out_, args);
}

bool Link::send(const std::shared_ptr<Batch>& batch, const std::vector<std::vector<std::string>>& commands) {
  if (ended_ || !up_) {
    batch->error = make_error(Code::kUnavailable, "redis: not connected");
    return false;
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    queue(commands[i]);
    owed_.push_back(Owed{batch, i});
  }
  return true;
}

bool Link::send_pubsub(const std::vector<std::string>& args) {
  if (ended_ || !up_ || args.empty()) return false;
  queue(args);
  return true;
}

void Link::notify(LinkEvent e, std::string why) {
  if (closing_ || !listener_) return;
  listener_(e, std::move(why));
}

void Link::fail_owed() {
  auto owed = std::move(owed_);
  owed_.clear();
  for (auto& o : owed) {
    if (!o.batch || o.batch->done) continue;
    if (!o.batch->error) o.batch->error = make_error(Code::kUnavailable, "redis: connection lost before the reply");
    o.batch->finish();
  }
}

void Link::end(std::string why) {
  if (ended_) return;
  ended_ = true;
  fail_owed();
  transport_.close();
  wake_.cancel();
  notify(up_ ? LinkEvent::kLost : LinkEvent::kConnectFailed, std::move(why));
}

asio::awaitable<void> Link::run(std::shared_ptr<Link> self, Options opts) {
  std::string failure = co_await self->transport_.connect(opts);
  if (self->ended_) co_return;
  if (!failure.empty()) {
    self->end(std::move(failure));
    co_return;
  }
  asio::co_spawn(self->wake_.get_executor(), write_loop(self), log_escaped("redis writer"));
  if (!opts.password.empty()) {
    // AUTH goes first; the link is up only once Redis accepts it (on_auth).
    self->queue({"AUTH", opts.user, opts.password});
    self->owed_.push_back(Owed{});
  } else {
    self->up_ = true;
    self->notify(LinkEvent::kConnected, {});
  }

  std::vector<char> buffer(kReadChunk);
  if (self->push_listener_) {
    // A subscribed connection: replies are read in place, [begin, end) not yet parsed.
    std::size_t begin = 0, end = 0;
    while (!self->ended_) {
      if (end == buffer.size()) {
        // Full with one incomplete reply: move it to the front, or grow for a big one.
        if (begin > 0) {
          std::memmove(buffer.data(), buffer.data() + begin, end - begin);
          end -= begin;
          begin = 0;
        } else {
          buffer.resize(buffer.size() * 2);
        }
      }
      auto [ec, n] = co_await self->transport_.read_some(asio::buffer(buffer.data() + end, buffer.size() - end));
      if (self->ended_) co_return;
      if (ec) {
        self->end(Transport::describe(ec));
        co_return;
      }
      end += n;
      if (!self->take_flat_replies(buffer.data(), begin, end)) co_return;
      if (begin == end) {
        begin = end = 0;
        if (buffer.size() > kReadChunk) std::vector<char>(kReadChunk).swap(buffer);  // after a big message
      }
    }
    co_return;
  }
  while (!self->ended_) {
    auto [ec, n] = co_await self->transport_.read_some(asio::buffer(buffer));
    if (self->ended_) co_return;
    if (ec) {
      self->end(Transport::describe(ec));
      co_return;
    }
    if (redisReaderFeed(self->reader_, buffer.data(), n) != REDIS_OK) {
      self->end(std::string("protocol error: ") + self->reader_->errstr);
      co_return;
    }
    while (!self->ended_) {
      void* reply = nullptr;
      if (redisReaderGetReply(self->reader_, &reply) != REDIS_OK) {
        self->end(std::string("protocol error: ") + self->reader_->errstr);
        co_return;
      }
      if (reply == nullptr) break;
      self->on_reply(static_cast<const redisReply*>(reply));
      freeReplyObject(reply);
    }
  }
}

asio::awaitable<void> Link::write_loop(std::shared_ptr<Link> self) {
  while (!self->ended_) {
    if (self->out_.empty()) {
      self->wake_.expires_at(asio::steady_timer::time_point::max());
      co_await self->wake_.async_wait(use_tuple);
      continue;
    }
    // Everything queued meanwhile goes out in one write (a pipeline is one write).
    std::swap(self->out_, self->writing_);
    auto ec = co_await self->transport_.write(asio::buffer(self->writing_));
    self->writing_.clear();
    if (ec) {
      self->end(Transport::describe(ec));
      co_return;
    }
  }
}

bool Link::take_flat_replies(const char* data, std::size_t& begin, std::size_t end_at) {
  FlatReply reply;
  while (!ended_) {
    auto parsed = parse_flat_reply(std::string_view(data + begin, end_at - begin), reply);
    if (parsed.status == FlatParse::Status::kIncomplete) return true;
    if (parsed.status == FlatParse::Status::kInvalid) {
      end(std::string("protocol error: ") + parsed.why);
      return false;
    }
    begin += parsed.used;
    on_flat_reply(reply);  // may end the link (the listener closed it)
  }
  return false;
}

void Link::on_flat_reply(const FlatReply& r) {
  if (owed_.empty()) {
    // Nothing asked for this reply: pub/sub, or Redis speaking unasked.
    if (r.value.type == Reply::Type::kArray) {
      if (closing_) return;
      try {
        push_listener_(r);
      } catch (const std::exception& e) {
        // A bug in a message handler: this connection starts over (and logs why) rather
        // than leaving a subscriber that no longer reads.
        end(std::string("a message handler failed: ") + e.what());
      }
    } else if (r.value.type == Reply::Type::kError) {
      // A refused SUBSCRIBE ("NOPERM ..."), or an error Redis sends before closing.
      end(std::string(r.value.str));
    } else {
      end("unexpected reply from Redis");
    }
    return;
  }
  Owed o = std::move(owed_.front());
  owed_.pop_front();
  if (!o.batch) {
    on_auth(r.value.type == Reply::Type::kStatus, r.value.type == Reply::Type::kError ? r.value.str : "");
    return;
  }
  answer(std::move(o), to_reply(r));
}

void Link::on_reply(const redisReply* r) {
  if (owed_.empty()) {
    // Only subscribed links (push_listener_) get replies nobody asked for, and they
    // read in place: here it is Redis speaking unasked.
    if (r->type == REDIS_REPLY_ERROR)
      end(std::string(r->str, r->len));
    else
      end("unexpected reply from Redis");
    return;
  }
  Owed o = std::move(owed_.front());
  owed_.pop_front();
  if (!o.batch) {
    on_auth(r->type == REDIS_REPLY_STATUS,
            r->type == REDIS_REPLY_ERROR ? std::string_view(r->str, r->len) : std::string_view());
    return;
  }
  answer(std::move(o), convert_reply(r));
}

void Link::answer(Owed o, Reply reply) {
  Batch& b = *o.batch;
  ++b.answered;
  if (b.done) return;  // timed out: the late reply is dropped
  b.replies[o.index] = std::move(reply);
  if (b.answered == b.replies.size()) b.finish();
}

void Link::on_auth(bool accepted, std::string_view refusal) {
  if (accepted) {
    up_ = true;
    notify(LinkEvent::kConnected, {});
    return;
  }
  // Redis's refusal ("WRONGPASS invalid username-password pair ...") names no secret.
  std::string why = "AUTH as user \"" + user_ + "\" refused";
  if (!refusal.empty()) why += ": " + std::string(refusal);
  end(std::move(why));
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
  // Our writes never raise SIGPIPE (MSG_NOSIGNAL), but the process may have other
  // writers to sockets and pipes; network services want it ignored, and callers have
  // relied on this since Redis connections were hiredis' own writes.
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
    // Inline, not posted: the reply's views point into the link's read buffer. `self`
    // keeps us alive if on_push's handler destroys our owner.
    push_listener = [weak, weak_link](const FlatReply& reply) {
      auto self = weak.lock();
      auto link = weak_link.lock();
      if (self && link && link == self->link_ && self->connected_) self->on_push(reply);
    };
  }
  link_ = link;
  link->open(opts_, std::move(listener), std::move(push_listener));
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
      link->close();  // no-op if it ended itself
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
