#include "alliance/net/lean_tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <algorithm>
#include <boost/system/system_error.hpp>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>

namespace alliance::net {

using Want = LeanTlsStream::Want;
using error_code = boost::system::error_code;
using clock = LeanTlsStream::clock;

// Everything one connection holds. Shared with the pending operations (they keep
// it alive) and weakly with the deadline timer's handler.
struct LeanTlsStream::Core : std::enable_shared_from_this<LeanTlsStream::Core> {
  Core(LeanTlsStream::socket_type s, SSL* ssl_in) : socket(std::move(s)), timer(socket.get_executor()), ssl(ssl_in) {}
  ~Core() { SSL_free(ssl); }  // also frees the BIO

  LeanTlsStream::socket_type socket;
  asio::steady_timer timer;
  SSL* ssl;
  std::string preread;  // bytes read before the handshake, served to OpenSSL first
  std::size_t preread_pos = 0;
  clock::time_point expiry = clock::time_point::max();
  clock::time_point armed_at = clock::time_point::max();
  bool timer_armed = false;
  bool timed_out = false;
  std::string batch;       // records written while batching (or behind an unsent batch)
  std::size_t batch_sent = 0;
  bool batching = false;
  bool wait_before_read = false;  // wait_before_next_read(): the next read waits for the socket first
  bool spill = false;  // in write_now: what send(2) does not take joins `batch`
  int waits = 0;       // socket waits in flight (read and write side)
  int write_waits = 0; // of them, waits for writability
  int last_errno = 0;  // errno of the BIO's last failed recv/send
};

namespace {

using Core = LeanTlsStream::Core;

// What an unbatched write may add behind an unsent batch before the connection fails
// (ENOBUFS): a burst's flush (the gateway's: 128 KiB) plus room for a few control frames.
constexpr std::size_t kMaxKeptBehindFlush = 1 << 20;

// ---- the BIO: recv/send straight on the non-blocking fd ----

int bio_read(BIO* bio, char* out, int len) {
  auto* core = static_cast<Core*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  if (core->preread_pos < core->preread.size()) {
    std::size_t n = std::min(static_cast<std::size_t>(len), core->preread.size() - core->preread_pos);
    std::memcpy(out, core->preread.data() + core->preread_pos, n);
    core->preread_pos += n;
    if (core->preread_pos == core->preread.size()) {
      std::string().swap(core->preread);
      core->preread_pos = 0;
    }
    return static_cast<int>(n);
  }
  ssize_t r = ::recv(core->socket.native_handle(), out, static_cast<std::size_t>(len), 0);
  if (r >= 0) return static_cast<int>(r);  // 0: the peer closed TCP
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    BIO_set_retry_read(bio);
  } else {
    core->last_errno = errno;
  }
  return -1;
}

int bio_write(BIO* bio, const char* in, int len) {
  auto* core = static_cast<Core*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  const std::size_t unsent = core->batch.size() - core->batch_sent;
  if (core->batching || unsent > 0) {
    // A write behind an unsent batch that nobody batches (Beast answering a client's ping
    // while a flush waits) joins it too, but only up to a bound: a peer that sends pings
    // and reads nothing would otherwise grow it until the write deadline.
    if (!core->batching && !core->spill && unsent + static_cast<std::size_t>(len) > kMaxKeptBehindFlush) {
      core->last_errno = ENOBUFS;
      return -1;
    }
    core->batch.append(in, static_cast<std::size_t>(len));
    return len;
  }
  ssize_t r = ::send(core->socket.native_handle(), in, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  const bool would_block = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  if (core->spill && (would_block || (r >= 0 && r < len))) {
    // write_now never waits: the rest of the record is kept for the flush.
    const std::size_t sent = r > 0 ? static_cast<std::size_t>(r) : 0;
    core->batch.append(in + sent, static_cast<std::size_t>(len) - sent);
    return len;
  }
  if (r >= 0) return static_cast<int>(r);
  if (would_block) {
    BIO_set_retry_write(bio);
  } else {
    core->last_errno = errno;
  }
  return -1;
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_PENDING: {
      auto* core = static_cast<Core*>(BIO_get_data(bio));
      return core ? static_cast<long>(core->preread.size() - core->preread_pos) : 0;
    }
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* bio_method() {
  // Made once, never freed: it is shared by every stream of the process.
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "alliance-lean-fd");
    if (!m || BIO_meth_set_write(m, bio_write) != 1 || BIO_meth_set_read(m, bio_read) != 1 ||
        BIO_meth_set_ctrl(m, bio_ctrl) != 1 || BIO_meth_set_create(m, bio_create) != 1)
      throw std::bad_alloc();
    return m;
  }();
  return method;
}

// ---- error mapping (the same codes asio::ssl::stream reports) ----

// OpenSSL 3.0's ERR_clear_error() clears all 16 slots of the thread's error queue (~1k
// instructions), and it runs around every read and write: it is only needed when
// something is queued.
void clear_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

Want failed(Core& core, int ret, error_code& ec) {
  int err = SSL_get_error(core.ssl, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      clear_errors();
      return Want::kRead;
    case SSL_ERROR_WANT_WRITE:
      clear_errors();
      return Want::kWrite;
    case SSL_ERROR_ZERO_RETURN:
      ec = asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL:
      if (core.last_errno != 0)
        ec = error_code(core.last_errno, boost::system::system_category());
      else
        ec = asio::ssl::error::stream_truncated;
      break;
    case SSL_ERROR_SSL: {
      unsigned long e = ERR_get_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        ec = asio::ssl::error::stream_truncated;
      else if (e != 0)
        ec = error_code(static_cast<int>(e), asio::error::get_ssl_category());
      else
        ec = asio::ssl::error::unspecified_system_error;
      break;
    }
    default:
      ec = asio::ssl::error::unspecified_system_error;
  }
  ERR_clear_error();
  return Want::kDone;
}

void before_call(Core& core) {
  clear_errors();
  core.last_errno = 0;
}

void arm_timer(Core& core);

void on_timer(const std::weak_ptr<Core>& weak) {
  auto core = weak.lock();
  if (!core) return;
  core->timer_armed = false;
  if (core->expiry == clock::time_point::max() || core->waits == 0) return;  // the next wait re-checks
  if (clock::now() < core->expiry) {
    arm_timer(*core);  // the deadline moved later meanwhile
    return;
  }
  core->timed_out = true;
  error_code ignored;
  core->socket.close(ignored);
}

void arm_timer(Core& core) {
  if (core.timer_armed && core.armed_at <= core.expiry) return;  // an earlier wake-up re-checks
  core.timer_armed = true;
  core.armed_at = core.expiry;
  core.timer.expires_at(core.expiry);
  core.timer.async_wait([weak = core.weak_from_this()](error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    on_timer(weak);
  });
}

}  // namespace

namespace lean_tls_detail {

Want read_step(Core& core, asio::mutable_buffer b, error_code& ec, std::size_t& n) {
  n = 0;
  if (b.size() == 0) return Want::kDone;
  if (core.wait_before_read) {
    core.wait_before_read = false;
    // Nothing buffered here or in OpenSSL (a record read ahead): wait for the socket
    // instead of a recv(2) that would fail with EAGAIN.
    if (core.preread_pos >= core.preread.size() && SSL_has_pending(core.ssl) == 0) return Want::kRead;
  }
  before_call(core);
  std::size_t got = 0;
  int r = SSL_read_ex(core.ssl, b.data(), b.size(), &got);
  if (r == 1) {
    n = got;
    return Want::kDone;
  }
  return failed(core, r, ec);
}

Want write_step(Core& core, asio::const_buffer b, error_code& ec, std::size_t& n) {
  n = 0;
  if (b.size() == 0) return Want::kDone;
  before_call(core);
  std::size_t put = 0;
  int r = SSL_write_ex(core.ssl, b.data(), b.size(), &put);
  if (r == 1) {
    n = put;
    return Want::kDone;
  }
  return failed(core, r, ec);
}

Want handshake_step(Core& core, error_code& ec) {
  before_call(core);
  int r = SSL_do_handshake(core.ssl);
  if (r == 1) {
    if (core.preread_pos >= core.preread.size()) std::string().swap(core.preread);
    return Want::kDone;
  }
  return failed(core, r, ec);
}

Want shutdown_step(Core& core, error_code& ec) {
  before_call(core);
  int r = SSL_shutdown(core.ssl);
  if (r == 0) {
    // Our close_notify is out; a second call reads the peer's (discarding any
    // application data still in flight).
    before_call(core);
    r = SSL_shutdown(core.ssl);
    if (r == 0) return Want::kRead;
  }
  if (r == 1) return Want::kDone;
  return failed(core, r, ec);
}

Want flush_step(Core& core, error_code& ec) {
  while (core.batch_sent < core.batch.size()) {
    ssize_t r = ::send(core.socket.native_handle(), core.batch.data() + core.batch_sent,
                       core.batch.size() - core.batch_sent, MSG_NOSIGNAL);
    if (r > 0) {
      core.batch_sent += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Want::kWrite;
    ec = error_code(r < 0 ? errno : EPIPE, boost::system::system_category());
    return Want::kDone;
  }
  std::string().swap(core.batch);  // an idle connection keeps no batch buffer
  core.batch_sent = 0;
  return Want::kDone;
}

void close_core(Core& core) {
  error_code ignored;
  core.socket.close(ignored);
}

LeanTlsStream::socket_type& core_socket(Core& core) { return core.socket; }

bool begin_wait(Core& core, error_code& ec, bool write) {
  if (core.timed_out) {
    ec = boost::beast::error::timeout;
    return false;
  }
  if (core.expiry != clock::time_point::max()) {
    if (clock::now() >= core.expiry) {
      core.timed_out = true;
      close_core(core);
      ec = boost::beast::error::timeout;
      return false;
    }
    arm_timer(core);
  }
  ++core.waits;
  if (write) ++core.write_waits;
  return true;
}

void end_wait(Core& core, error_code& ec, bool write) {
  --core.waits;
  if (write) --core.write_waits;
  if (ec && core.timed_out) ec = boost::beast::error::timeout;
}

}  // namespace lean_tls_detail

LeanTlsStream::LeanTlsStream(socket_type socket, asio::ssl::context& ctx) {
  SSL* ssl = SSL_new(ctx.native_handle());
  if (!ssl) throw std::bad_alloc();
  BIO* bio = BIO_new(bio_method());
  if (!bio) {
    SSL_free(ssl);
    throw std::bad_alloc();
  }
  // Idle connections hold no record buffers; a retried write may come from a new
  // address (it is re-linearised), and each write returns after a record.
  SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read-ahead: one recv(2) takes whatever is queued (several records, say a burst of RPC
  // answers), instead of a record's 5-byte header and then its body. A read asks OpenSSL
  // before it waits on the socket, and wait_before_next_read checks SSL_has_pending, which
  // counts what was read ahead, so nothing read ahead is left waiting.
  SSL_set_read_ahead(ssl, 1);
  SSL_set_bio(ssl, bio, bio);  // one reference, owned by ssl
  core_ = std::make_shared<Core>(std::move(socket), ssl);
  BIO_set_data(bio, core_.get());
  // A socket not connected yet (a client's, connected through socket()) is made
  // non-blocking when its handshake starts (set_role).
  if (core_->socket.is_open()) {
    error_code ec;
    core_->socket.non_blocking(true, ec);
    if (ec) throw boost::system::system_error(ec, "LeanTlsStream: non_blocking");
  }
}

LeanTlsStream::Detached::Detached(Detached&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), family_(o.family_), ssl_(std::exchange(o.ssl_, nullptr)) {}

LeanTlsStream::Detached& LeanTlsStream::Detached::operator=(Detached&& o) noexcept {
  if (this != &o) {
    this->~Detached();
    fd_ = std::exchange(o.fd_, -1);
    family_ = o.family_;
    ssl_ = std::exchange(o.ssl_, nullptr);
  }
  return *this;
}

LeanTlsStream::Detached::~Detached() {
  SSL_free(ssl_);  // also frees the BIO
  if (fd_ >= 0) ::close(fd_);
}

LeanTlsStream::Detached LeanTlsStream::detach() {
  Detached d;
  if (!core_ || !core_->socket.is_open() || core_->waits != 0) return d;
  // Bytes read before the handshake are all consumed by now (handshake_step frees them).
  if (core_->preread_pos < core_->preread.size()) return d;
  // Records kept by write batching would be lost with the core.
  if (core_->batching || core_->batch_sent < core_->batch.size()) return d;
  error_code ec;
  auto local = core_->socket.local_endpoint(ec);
  if (ec) return d;
  core_->timer.cancel();
  core_->expiry = clock::time_point::max();
  d.family_ = local.protocol().family();
  int fd = core_->socket.release(ec);
  if (ec) return d;
  d.fd_ = fd;
  d.ssl_ = std::exchange(core_->ssl, nullptr);
  BIO_set_data(SSL_get_rbio(d.ssl_), nullptr);
  core_.reset();
  return d;
}

LeanTlsStream::LeanTlsStream(Detached d, asio::any_io_executor ex) {
  if (!d) throw std::invalid_argument("LeanTlsStream: empty detached connection");
  socket_type socket(ex, asio::generic::stream_protocol(d.family_, d.family_ == AF_UNIX ? 0 : IPPROTO_TCP), d.fd_);
  d.fd_ = -1;  // the socket owns it now
  core_ = std::make_shared<Core>(std::move(socket), std::exchange(d.ssl_, nullptr));
  BIO_set_data(SSL_get_rbio(core_->ssl), core_.get());
  error_code ec;
  core_->socket.non_blocking(true, ec);
  if (ec) throw boost::system::system_error(ec, "LeanTlsStream: non_blocking");
}

LeanTlsStream::~LeanTlsStream() {
  // Pending operations hold the core; closing makes them finish (and free it).
  if (core_) lean_tls_detail::close_core(*core_);
}

LeanTlsStream::LeanTlsStream(LeanTlsStream&&) noexcept = default;

LeanTlsStream& LeanTlsStream::operator=(LeanTlsStream&& other) noexcept {
  if (this != &other) {
    if (core_) lean_tls_detail::close_core(*core_);
    core_ = std::move(other.core_);
  }
  return *this;
}

LeanTlsStream::executor_type LeanTlsStream::get_executor() noexcept { return core_->socket.get_executor(); }
LeanTlsStream::socket_type& LeanTlsStream::socket() { return core_->socket; }
SSL* LeanTlsStream::native_handle() { return core_->ssl; }

void LeanTlsStream::expires_after(clock::duration d) { expires_at(clock::now() + d); }

void LeanTlsStream::expires_at(clock::time_point t) {
  core_->expiry = t;
  core_->timed_out = false;
  if (core_->waits > 0) arm_timer(*core_);
}

void LeanTlsStream::expires_never() {
  // A timer already armed is left to fire (on_timer sees no deadline and stops): a
  // connection that sets a deadline around every write then costs no timer operation
  // per write, only one wake-up per deadline period.
  core_->expiry = clock::time_point::max();
  core_->timed_out = false;
}

void LeanTlsStream::close() { lean_tls_detail::close_core(*core_); }

void LeanTlsStream::wait_before_next_read() { core_->wait_before_read = true; }

void LeanTlsStream::batch_writes(bool on) { core_->batching = on; }

bool LeanTlsStream::batch_pending() const { return core_->batch_sent < core_->batch.size(); }

bool LeanTlsStream::write_ready() const { return core_->write_waits == 0; }

namespace {

// SSL_write_ex until all of [p, p + n) is in records (one per call: partial writes are on).
error_code write_records(Core& core, const unsigned char* p, std::size_t n) {
  error_code ec;
  while (n > 0) {
    std::size_t put = 0;
    const Want want = lean_tls_detail::write_step(core, asio::const_buffer(p, n), ec, put);
    if (ec) return ec;
    // Spilling, the BIO never asks to wait; OpenSSL would only with a half-sent record of
    // an earlier write, which write_ready() rules out.
    if (want != Want::kDone || put == 0) return asio::error::try_again;
    p += put;
    n -= put;
  }
  return ec;
}

}  // namespace

error_code LeanTlsStream::write_now(asio::const_buffer head, asio::const_buffer body) {
  Core& core = *core_;
  if (!core.socket.is_open()) return asio::error::bad_descriptor;
  if (head.size() > 16) return asio::error::invalid_argument;
  // The first record gathers `head` and the start of `body`, as WriteStep linearises.
  unsigned char first[16384];
  const std::size_t lead = std::min(body.size(), sizeof first - head.size());
  std::memcpy(first, head.data(), head.size());
  std::memcpy(first + head.size(), body.data(), lead);
  core.spill = true;
  error_code ec = write_records(core, first, head.size() + lead);
  if (!ec) ec = write_records(core, static_cast<const unsigned char*>(body.data()) + lead, body.size() - lead);
  core.spill = false;
  return ec;
}

error_code LeanTlsStream::flush_now() {
  error_code ec;
  lean_tls_detail::flush_step(*core_, ec);
  return ec;
}

void LeanTlsStream::set_role(asio::ssl::stream_base::handshake_type type) {
  // A socket connected after construction; one made non-blocking there needs no second
  // ioctl. A closed socket fails the handshake's first step instead.
  error_code ignored;
  if (core_->socket.is_open() && !core_->socket.non_blocking()) core_->socket.non_blocking(true, ignored);
  if (type == asio::ssl::stream_base::server)
    SSL_set_accept_state(core_->ssl);
  else
    SSL_set_connect_state(core_->ssl);
}

void LeanTlsStream::set_preread(const void* data, std::size_t n) {
  core_->preread.append(static_cast<const char*>(data), n);
}

void beast_close_socket(LeanTlsStream& s) { s.close(); }

void teardown(boost::beast::role_type, LeanTlsStream& s, boost::system::error_code& ec) {
  // Best effort without blocking: send close_notify if the socket takes it, then close.
  ERR_clear_error();
  SSL_shutdown(s.native_handle());
  ERR_clear_error();
  ec = {};
  s.close();
}

}  // namespace alliance::net
