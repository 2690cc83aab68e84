#include "alliance/audit/audit_sender.hpp"

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
  auto& r = queued_.emplace_back();
  r.set_at_unix_ms(now_unix_ms());
  r.set_practice_id(ctx.caller.practice_id());
  r.set_actor_user_id(ctx.caller.user_id());
  r.set_actor_role(ctx.caller.role());
  r.set_session_id(ctx.caller.session_id());
  r.set_source_address(ctx.caller.source_address());
  r.set_action(std::string(e.action));
  r.set_object_type(std::string(e.object_type));
  r.set_object_id(std::string(e.object_id));
  r.set_subject_user_id(std::string(e.subject_user_id));
  r.set_outcome(std::string(e.outcome));
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
    ::alliance::identity::v1::AppendAuditRequest req;
    const auto n = std::min<std::size_t>(queued_.size(), max_batch);
    for (std::size_t i = 0; i < n; ++i) *req.add_records() = queued_[i];
    auto sent = co_await identity_.call<::alliance::identity::v1::AppendAuditResponse>(
        "alliance.identity.v1.Identity/AppendAudit", req, as_itself, options_.timeout);
    if (sent) {
      // Records queued meanwhile were appended behind these, so the first n are ours.
      queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
      stats_.sent += n;
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
