#pragma once
// LeanTlsStream: TLS over a stream socket (TCP, or a Unix-domain socket between
// processes on one host) with OpenSSL driven directly on the non-blocking fd, so an
// idle connection keeps no record buffers.
//
// asio::ssl::stream keeps two 17 KiB buffers per stream plus a BIO pair whose
// buffers are never freed, even with SSL_MODE_RELEASE_BUFFERS. Here OpenSSL
// reads and writes the fd itself (through a tiny BIO), and RELEASE_BUFFERS lets
// it free its record buffers whenever nothing is in flight, so an idle
// connection holds the SSL object (OpenSSL 3.0: most of the ~14 KiB measured with
// a read pending, see lean_tls_stream_test), its socket and a timer.
//
// It models Asio's AsyncReadStream/AsyncWriteStream, so Beast's http::async_read/
// async_write and websocket::stream<LeanTlsStream> work over it. It is its own
// lowest layer (beast::get_lowest_layer(s) is s): expires_after/expires_never
// give the same timeouts as beast::tcp_stream (a pending operation that outlives
// the deadline closes the socket and completes with beast::error::timeout).
//
// Threading: lives on its socket's executor; not thread-safe. At most one read
// (async_read_some) and one write (async_write_some) may be pending at a time,
// and they may be pending together; handshake and shutdown take both sides.
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "alliance/core/asio.hpp"

namespace alliance::net {

class LeanTlsStream {
 public:
  using executor_type = asio::any_io_executor;
  using error_code = boost::system::error_code;
  using clock = std::chrono::steady_clock;

  // The socket it carries: a TCP or a Unix-domain stream socket (either converts to it).
  using socket_type = asio::generic::stream_protocol::socket;

  // Takes an accepted or connected socket, or one to be connected through socket()
  // before the handshake; `ctx` must outlive the stream.
  // SSL_MODE_RELEASE_BUFFERS, partial writes, moving write buffers and read-ahead are
  // set on this connection's SSL object regardless of the context's modes.
  LeanTlsStream(socket_type socket, asio::ssl::context& ctx);
  ~LeanTlsStream();
  // A handle: pending operations keep the connection's state alive, so moving the
  // stream while they run is fine. Destroying it closes the socket.
  LeanTlsStream(LeanTlsStream&&) noexcept;
  LeanTlsStream& operator=(LeanTlsStream&&) noexcept;

  // A connection taken off its executor so that another one (another thread's
  // io_context) can carry it on: the socket's descriptor and the TLS session, with
  // nothing pending. Dropping it closes the connection.
  class Detached {
   public:
    Detached() = default;
    Detached(Detached&&) noexcept;
    Detached& operator=(Detached&&) noexcept;
    ~Detached();
    explicit operator bool() const { return ssl_ != nullptr; }

   private:
    friend class LeanTlsStream;
    int fd_ = -1;
    int family_ = 0;  // AF_INET, AF_INET6 or AF_UNIX
    SSL* ssl_ = nullptr;
  };
  // Takes the connection off this stream, which is left empty (destroying it does
  // nothing). Nothing may be pending but the deadline timer; call on the stream's
  // executor, after the handshake. Empty if the socket was already closed, or while write
  // batching is on or keeps records not yet sent.
  Detached detach();
  // Carries on a detached connection on `ex`; call on `ex`. Throws if `d` is empty.
  LeanTlsStream(Detached d, asio::any_io_executor ex);

  executor_type get_executor() noexcept;
  socket_type& socket();
  SSL* native_handle();

  // Deadline for the operations pending now or started later (like beast::tcp_stream).
  void expires_after(clock::duration d);
  void expires_at(clock::time_point t);
  void expires_never();
  // Closes the socket; pending operations complete with operation_aborted.
  void close();
  // For a read that will most likely find nothing yet (a keep-alive connection's next
  // request, right after the answer went out): the next async_read_some waits for the
  // socket to be readable before asking OpenSSL, unless bytes are buffered already,
  // instead of first trying a recv(2) that fails with EAGAIN. Saves a system call.
  void wait_before_next_read();

  // Server or client handshake. The overload with `initial` first feeds OpenSSL
  // bytes already read from the socket (e.g. by beast::async_detect_ssl); its
  // handler gets (ec, bytes_used), and bytes_used is always initial.size().
  template <class Token>
  auto async_handshake(asio::ssl::stream_base::handshake_type type, Token&& token);
  template <class ConstBufferSequence, class Token>
  auto async_handshake(asio::ssl::stream_base::handshake_type type, const ConstBufferSequence& initial,
                       Token&& token);

  // Handler (ec, n). The peer's close_notify reads as asio::error::eof; a TCP close
  // without it (also in mid-record) as asio::ssl::error::stream_truncated.
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token);
  // Handler (ec, n): writes at most one TLS record's worth (16 KiB) per call.
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token);

  // Write batching, for a writer with several messages queued: while on, the TLS records
  // OpenSSL writes are kept in user space instead of sent, so each async_write_some
  // completes at once; async_flush (handler (ec)) then sends them in as few send(2)
  // calls as the socket takes, waiting for writability under the deadline. Records
  // written while a batch is unsent join it (Beast answering a ping meanwhile, too), so
  // the wire order is the order of the writes; past 1 MiB unsent, such a write fails
  // with ENOBUFS (a peer that sends pings and reads nothing cannot grow it further).
  // Turn it off and flush before a shutdown.
  void batch_writes(bool on);
  bool batch_pending() const;  // records kept and not yet sent
  template <class Token>
  auto async_flush(Token&& token);

  // Writing without an asynchronous operation, for a writer that frames its own messages
  // (the gateway's pushes: no operation, handler or post per message). write_now encrypts
  // `head` (at most 16 bytes, e.g. a WebSocket frame header) and `body` into TLS records
  // now, `head` sharing the first record with the start of `body`, and hands them to the
  // socket; what the socket does not take at once is kept as a batch is (batch_pending()
  // is then true, and async_flush or flush_now sends it), so it never waits. With write
  // batching on, the records are kept. Call only while write_ready(). Returns the
  // connection's failure, if any (then close it).
  boost::system::error_code write_now(asio::const_buffer head, asio::const_buffer body);
  // No write is waiting on the socket, so OpenSSL holds no half-sent record: write_now may run.
  bool write_ready() const;
  // Sends as much of the kept records as the socket takes now, without waiting.
  boost::system::error_code flush_now();

  // Sends close_notify and waits (bounded by the deadline) for the peer's.
  template <class Token>
  auto async_shutdown(Token&& token);

  // Websocket teardown: async_shutdown, then close the socket. eof and
  // stream_truncated (the peer closed first) count as success.
  template <class Token>
  auto async_teardown(Token&& token);

  // Internal: what an operation needs next. Public only for the operation templates.
  enum class Want { kDone, kRead, kWrite };
  struct Core;
  template <class Step>
  struct Op;

 private:
  void set_role(asio::ssl::stream_base::handshake_type type);
  void set_preread(const void* data, std::size_t n);
  std::shared_ptr<Core> core_;
};

// Beast customization points (found by ADL): websocket::stream<LeanTlsStream> close.
void beast_close_socket(LeanTlsStream& s);
void teardown(boost::beast::role_type role, LeanTlsStream& s, boost::system::error_code& ec);
template <class Handler>
void async_teardown(boost::beast::role_type /*role*/, LeanTlsStream& s, Handler&& handler) {
  s.async_teardown(std::forward<Handler>(handler));
}

// ---- implementation (thin: every OpenSSL call is in lean_tls_stream.cpp) ----

namespace lean_tls_detail {

using Want = LeanTlsStream::Want;
using error_code = boost::system::error_code;

// Non-template steps; `core` is LeanTlsStream::Core.
Want read_step(LeanTlsStream::Core& core, asio::mutable_buffer b, error_code& ec, std::size_t& n);
Want write_step(LeanTlsStream::Core& core, asio::const_buffer b, error_code& ec, std::size_t& n);
Want handshake_step(LeanTlsStream::Core& core, error_code& ec);
Want shutdown_step(LeanTlsStream::Core& core, error_code& ec);
Want flush_step(LeanTlsStream::Core& core, error_code& ec);
void close_core(LeanTlsStream::Core& core);
LeanTlsStream::socket_type& core_socket(LeanTlsStream::Core& core);
// Before waiting on the socket (for writability if `write`): false (and ec = timeout,
// socket closed) if the deadline has passed; otherwise counts the wait and arms the
// deadline timer.
bool begin_wait(LeanTlsStream::Core& core, error_code& ec, bool write);
// After a wait completes: maps operation_aborted to beast::error::timeout if the deadline fired.
void end_wait(LeanTlsStream::Core& core, error_code& ec, bool write);

struct ReadStep {
  static constexpr bool kSized = true;
  asio::mutable_buffer b;
  Want operator()(LeanTlsStream::Core& c, error_code& ec, std::size_t& n) const { return read_step(c, b, ec, n); }
};

template <class Buffers>
struct WriteStep {
  static constexpr bool kSized = true;
  Buffers buffers;
  Want operator()(LeanTlsStream::Core& c, error_code& ec, std::size_t& n) const {
    // Like asio::ssl::stream: gather small pieces (a websocket header and its
    // payload) into one record. Re-linearised identically on each retry.
    unsigned char storage[8192];
    asio::const_buffer b = asio::detail::buffer_sequence_adapter<asio::const_buffer, Buffers>::linearise(
        buffers, asio::buffer(storage));
    return write_step(c, b, ec, n);
  }
};

template <bool Sized>
struct HandshakeStep {
  static constexpr bool kSized = Sized;
  Want operator()(LeanTlsStream::Core& c, error_code& ec, std::size_t&) const { return handshake_step(c, ec); }
};

struct FlushStep {
  static constexpr bool kSized = false;
  Want operator()(LeanTlsStream::Core& c, error_code& ec, std::size_t&) const { return flush_step(c, ec); }
};

struct ShutdownStep {
  static constexpr bool kSized = false;
  bool then_close = false;  // teardown
  Want operator()(LeanTlsStream::Core& c, error_code& ec, std::size_t&) const {
    Want w = shutdown_step(c, ec);
    if (w == Want::kDone && then_close) {
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) ec = {};
      close_core(c);
    }
    return w;
  }
};

}  // namespace lean_tls_detail

template <class Step>
struct LeanTlsStream::Op {
  std::shared_ptr<Core> core;
  Step step;
  std::size_t done_n = 0;  // what a sized handshake reports
  enum State { kStart, kWaiting, kPosted } state = kStart;
  bool waiting_write = false;  // kWaiting: for writability
  error_code result{};
  std::size_t result_n = 0;

  template <class Self>
  void operator()(Self& self, error_code ec = {}, std::size_t = 0) {
    if (state == kPosted) return finish(self, result, result_n);
    if (state == kWaiting) {
      lean_tls_detail::end_wait(*core, ec, waiting_write);
      if (ec) {
        if constexpr (std::is_same_v<Step, lean_tls_detail::ShutdownStep>) {
          if (step.then_close) {
            lean_tls_detail::close_core(*core);
            if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) ec = {};
          }
        }
        return finish(self, ec, 0);
      }
    }
    std::size_t n = 0;
    Want want = step(*core, ec, n);
    if (want != Want::kDone && lean_tls_detail::begin_wait(*core, ec, want == Want::kWrite)) {
      state = kWaiting;
      waiting_write = want == Want::kWrite;
      lean_tls_detail::core_socket(*core).async_wait(
          want == Want::kRead ? asio::socket_base::wait_read : asio::socket_base::wait_write, std::move(self));
      return;
    }
    if (done_n != 0 && !ec) n = done_n;
    if (state == kStart) {
      // Completed without waiting: never call the handler from inside the initiating function.
      state = kPosted;
      result = ec;
      result_n = n;
      // Posted through the io_context's own executor when that is what the socket runs on:
      // unlike any_io_executor it honours the handler's associated allocator, so a caller
      // that binds a pooled one (the gateway's pushes) pays no malloc per operation.
      auto ex = lean_tls_detail::core_socket(*core).get_executor();
      if (const auto* io = ex.template target<asio::io_context::executor_type>())
        asio::post(*io, std::move(self));
      else
        asio::post(std::move(self));
      return;
    }
    finish(self, ec, n);
  }

 private:
  template <class Self>
  void finish(Self& self, error_code ec, std::size_t n) {
    core.reset();
    if constexpr (Step::kSized)
      self.complete(ec, n);
    else
      self.complete(ec);
  }
};

template <class Token>
auto LeanTlsStream::async_handshake(asio::ssl::stream_base::handshake_type type, Token&& token) {
  set_role(type);
  return asio::async_compose<Token, void(error_code)>(
      Op<lean_tls_detail::HandshakeStep<false>>{core_, {}}, token, socket());
}

template <class ConstBufferSequence, class Token>
auto LeanTlsStream::async_handshake(asio::ssl::stream_base::handshake_type type, const ConstBufferSequence& initial,
                                    Token&& token) {
  set_role(type);
  std::size_t total = 0;
  for (auto it = asio::buffer_sequence_begin(initial); it != asio::buffer_sequence_end(initial); ++it) {
    asio::const_buffer b(*it);
    set_preread(b.data(), b.size());
    total += b.size();
  }
  return asio::async_compose<Token, void(error_code, std::size_t)>(
      Op<lean_tls_detail::HandshakeStep<true>>{core_, {}, total}, token, socket());
}

template <class MutableBufferSequence, class Token>
auto LeanTlsStream::async_read_some(const MutableBufferSequence& buffers, Token&& token) {
  asio::mutable_buffer first;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
    first = asio::mutable_buffer(*it);
    if (first.size() != 0) break;
  }
  return asio::async_compose<Token, void(error_code, std::size_t)>(
      Op<lean_tls_detail::ReadStep>{core_, {first}}, token, socket());
}

template <class ConstBufferSequence, class Token>
auto LeanTlsStream::async_write_some(const ConstBufferSequence& buffers, Token&& token) {
  return asio::async_compose<Token, void(error_code, std::size_t)>(
      Op<lean_tls_detail::WriteStep<ConstBufferSequence>>{core_, {buffers}}, token, socket());
}

template <class Token>
auto LeanTlsStream::async_flush(Token&& token) {
  return asio::async_compose<Token, void(error_code)>(Op<lean_tls_detail::FlushStep>{core_, {}}, token, socket());
}

template <class Token>
auto LeanTlsStream::async_shutdown(Token&& token) {
  return asio::async_compose<Token, void(error_code)>(Op<lean_tls_detail::ShutdownStep>{core_, {false}}, token,
                                                      socket());
}

template <class Token>
auto LeanTlsStream::async_teardown(Token&& token) {
  return asio::async_compose<Token, void(error_code)>(Op<lean_tls_detail::ShutdownStep>{core_, {true}}, token,
                                                      socket());
}

}  // namespace alliance::net
