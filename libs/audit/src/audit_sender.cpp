#include "alliance/audit/audit_sender.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"

namespace alliance::audit {

AuditSender::AuditSender(asio::any_io_executor ex, net::RpcClient& identity, Options options)
    : ex_(std::move(ex)), identity_(identity), options_(options), linger_(ex_) {}

void AuditSender::record(const net::CallContext& ctx, Event e) {
  if (queued_.size() >= options_.max_queued) {
    if (stats_.dropped++ % 1000 == 0)
      log::error("audit queue full: records dropped", {{"dropped", static_cast<std::int64_t>(stats_.dropped)}});
    return;
  }
  // Filled in a record the sender keeps (its strings keep their capacity) and queued as
  // its wire bytes: a batch is those bytes joined, with no copy of each record's fields.
  auto& r = scratch_;
  r.Clear();
  r.set_at_unix_ms(now_unix_ms());
  r.set_practice_id(ctx.caller.practice_id());
  r.set_actor_user_id(ctx.caller.user_id());
  r.set_actor_role(ctx.caller.role());
  r.set_session_id(ctx.caller.session_id());
  r.set_source_address(ctx.caller.source_address());
  r.mutable_action()->assign(e.action);
  r.mutable_object_type()->assign(e.object_type);
  r.mutable_object_id()->assign(e.object_id);
  r.mutable_subject_user_id()->assign(e.subject_user_id);
  r.mutable_outcome()->assign(e.outcome);
  r.SerializeToString(&queued_.emplace_back());
  if (!running_) {
    wake();
  } else if (queued_.size() == static_cast<std::size_t>(options_.max_batch)) {
    linger_.cancel();  // a full batch goes now
  }
}

void AuditSender::wake() {
  running_ = true;
  asio::co_spawn(ex_, run(), [this](std::exception_ptr ep) {
    running_ = false;
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& x) {
      log::error("audit sender failed", {{"reason", x.what()}});
    }
  });
}

void AuditSender::record_refusal(const net::CallContext& ctx, Event e, const Error& error) {
  e.outcome = outcome_of(error);
  if (e.outcome != "failed") record(ctx, e);
}

asio::awaitable<void> AuditSender::run() {
  asio::steady_timer wait(ex_);
  const alliance::rpc::v1::Caller as_itself;  // no end user: the service calls as itself
  const auto max_batch = static_cast<std::size_t>(options_.max_batch);
  while (!queued_.empty()) {
    // Under load, let the batch fill: each AppendAudit is one commit (and fsync) in
    // identity, whatever its size. Idle (the last batch started over linger ago), or
    // full, or flushed: send now.
    const auto due = last_start_ + options_.linger;
    if (queued_.size() < max_batch && flushing_ == 0 && std::chrono::steady_clock::now() < due) {
      linger_.expires_at(due);
      co_await linger_.async_wait(use_tuple);  // cancelled early by a full batch or a flush
      continue;
    }
    last_start_ = std::chrono::steady_clock::now();
    const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(queued_.size(), max_batch));
    std::string request = append_audit_request(queued_.begin(), queued_.begin() + n);
    auto sent = co_await identity_.call_raw("alliance.identity.v1.Identity/AppendAudit", std::move(request),
                                            as_itself, options_.timeout);
    if (sent && !::alliance::identity::v1::AppendAuditResponse().ParseFromString(*sent))
      sent = make_error(Code::kInternal, "malformed response");
    if (sent) {
      // Records queued meanwhile were appended behind these, so the first n are ours.
      queued_.erase(queued_.begin(), queued_.begin() + n);
      stats_.sent += static_cast<std::uint64_t>(n);
      ++stats_.batches;
      continue;
    }
    if (stats_.failed_sends++ % 100 == 0)
      log::warn("audit records not sent yet; retrying", {{"queued", static_cast<std::int64_t>(queued_.size())},
                                                          {"reason", sent.error().message}});
    wait.expires_after(options_.retry_after);
    co_await wait.async_wait(use_tuple);
  }
}

asio::awaitable<bool> AuditSender::flush(std::chrono::milliseconds within) {
  asio::steady_timer wait(ex_);
  const auto deadline = std::chrono::steady_clock::now() + within;
  ++flushing_;
  linger_.cancel();
  if (!running_ && !queued_.empty()) wake();
  while (!queued_.empty() && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(5));
    co_await wait.async_wait(use_tuple);
  }
  --flushing_;
  co_return queued_.empty();
}

std::string append_audit_request(std::deque<std::string>::const_iterator first,
                                 std::deque<std::string>::const_iterator last) {
  namespace io = google::protobuf::io;
  using google::protobuf::internal::WireFormatLite;
  constexpr auto kRecordTag = WireFormatLite::MakeTag(::alliance::identity::v1::AppendAuditRequest::kRecordsFieldNumber,
                                                      WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  std::size_t size = 0;
  for (auto it = first; it != last; ++it) size += it->size() + 11;
  std::string out;
  out.reserve(size);
  {
    io::StringOutputStream stream(&out);
    io::CodedOutputStream coded(&stream);
    for (auto it = first; it != last; ++it) {
      coded.WriteTag(kRecordTag);
      coded.WriteVarint32(static_cast<std::uint32_t>(it->size()));
      coded.WriteString(*it);
    }
  }  // the coded stream hands back what it did not fill when it goes
  return out;
}

std::string_view outcome_of(const Error& e) {
  switch (e.code) {
    case Code::kPermissionDenied:
    case Code::kUnauthenticated:
      return "denied";
    case Code::kNotFound:
      return "not_found";
    default:
      return "failed";
  }
}

}  // namespace alliance::audit
