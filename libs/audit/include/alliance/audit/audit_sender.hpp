#pragma once
// AuditSender: how a service other than identity sends its audit records to identity's
// log (AppendAudit, calling as itself). record() only queues and never waits, so a
// request is never slowed or failed by the log; one sender coroutine ships what is
// queued in batches and, while identity is unreachable, keeps the batch and tries
// again. Batches start at most once per `linger`: a record that finds the sender idle
// (no batch started within linger) goes at once; under load a batch fills for up to
// linger, or until max_batch is queued, so identity commits (and fsyncs) once per
// batch of many records rather than a few (bench/README.md "Audit log write cost"). Records held in memory are lost if the process dies before they are sent
// (at most max_queued; README "Audit log"); beyond max_queued new records are dropped
// and counted. Thread: the executor given; call record() from coroutines on it.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <string_view>

#include "alliance/core/asio.hpp"
#include "alliance/identity/v1/identity.pb.h"
#include "alliance/net/rpc_client.hpp"
#include "alliance/net/rpc_server.hpp"

namespace alliance::audit {

class AuditSender {
 public:
  struct Options {
    std::size_t max_queued = 50'000;
    int max_batch = 500;                          // identity's AppendAudit limit
    std::chrono::milliseconds retry_after{500};   // after a failed send
    std::chrono::milliseconds timeout{5000};      // per AppendAudit call
    std::chrono::milliseconds linger{10};         // least time between the starts of two batches
  };
  struct Stats {
    std::uint64_t sent = 0;
    std::uint64_t batches = 0;  // AppendAudit calls that succeeded
    std::uint64_t dropped = 0;
    std::uint64_t failed_sends = 0;
  };
  // What one record says beyond the caller (who, from where) the context carries.
  struct Event {
    std::string_view action;       // "appointment.read", ...
    std::string_view object_type;  // "appointment", ...
    std::string_view object_id;
    std::string_view subject_user_id;  // whose data (the client)
    std::string_view outcome = "ok";   // "ok" | "denied" | "not_found" | "failed"
  };

  // `identity` must outlive the sender.
  AuditSender(asio::any_io_executor ex, net::RpcClient& identity, Options options);
  AuditSender(const AuditSender&) = delete;
  AuditSender& operator=(const AuditSender&) = delete;

  // Queues a record about the end user of `ctx` (practice, user, role, session,
  // source address as the gateway asserted them), stamped now.
  void record(const net::CallContext& ctx, Event e);
  // Records a refused call: `e` with the outcome of `error` ("denied", "not_found");
  // other failures (bad input, unavailable) are not about who may see what, and are not recorded.
  void record_refusal(const net::CallContext& ctx, Event e, const Error& error);
  // Sends what is queued at once (no linger), waiting at most `within` (shutdown,
  // tests); true if all went.
  asio::awaitable<bool> flush(std::chrono::milliseconds within);

  Stats stats() const { return stats_; }
  std::size_t queued() const { return queued_.size(); }

 private:
  asio::awaitable<void> run();
  // Starts run() unless it is running.
  void wake();

  asio::any_io_executor ex_;
  net::RpcClient& identity_;
  Options options_;
  ::alliance::identity::v1::AuditRecord scratch_;  // record() fills it, then queues its bytes
  std::deque<std::string> queued_;                 // serialized AuditRecords, oldest first
  bool running_ = false;
  int flushing_ = 0;  // flush() calls waiting: batches go without lingering
  std::chrono::steady_clock::time_point last_start_{};  // when the last batch was sent
  asio::steady_timer linger_;  // run() waits on it; cancelled when a batch is full or a flush starts
  Stats stats_;
};

// "denied", "not_found" or "failed" for a refused call.
std::string_view outcome_of(const Error& e);

// The wire bytes of an AppendAuditRequest whose records are [first, last), each given as
// its own wire bytes: the same bytes as the request built of those records and serialized.
std::string append_audit_request(std::deque<std::string>::const_iterator first,
                                 std::deque<std::string>::const_iterator last);

}  // namespace alliance::audit
