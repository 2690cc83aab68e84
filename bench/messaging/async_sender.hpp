#pragma once
// ClosedLoopSenders: the messaging benchmark's cheap load generator. N keep-alive TLS
// connections to the gateway, all driven by the calling thread on one io_context; each
// writes requests whose bytes were made whole beforehand, in order, the next one once the
// answer to the previous one has been read (closed loop). The answer is checked for its
// status, the message id and a seq, without parsing the JSON, so the client spends little
// next to the servers. All Beast/TLS code of the messaging benchmark is in
// async_sender.cpp; this header costs nothing to include.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/endpoint.hpp"

namespace alliance::bench {

// One request, whole: request line, Host, Authorization, Content-Type, Content-Length and
// body; and the message id its 201 answer must name.
struct PreparedSend {
  std::string bytes;
  std::string message_id;
};

// POST `target` with a JSON `body` and "Authorization: Bearer <bearer>" to `gateway`.
PreparedSend prepare_post(const client::Endpoint& gateway, std::string_view target, std::string_view bearer,
                          std::string_view body, std::string message_id);

// The seq of a send's 201 body if it names `message_id` ("message_id":"<id>") and carries
// a "seq" above 0 (a string or a number: proto3 JSON prints int64 as a string); else 0.
std::int64_t answered_seq(std::string_view body, std::string_view message_id);

// What one answer was.
struct Answer {
  int status = 0;     // the HTTP status; 0 for a transport error or a 201 without this message and a seq
  std::string error;  // empty for a good 201
};

// Each connection's share of a run.
struct SendersRun {
  std::vector<std::size_t> sent;  // requests written, from the front of its queue
  // When a connection had used up its queue before the run's end (nothing else to send).
  std::vector<std::optional<std::chrono::steady_clock::time_point>> ran_out;
};

class ClosedLoopSenders {
 public:
  // Called on the run's thread for each answer: which connection, when its request began
  // to be written and when the answer had been read.
  using AnswerHandler = std::function<void(std::size_t connection, std::chrono::steady_clock::time_point sent,
                                           std::chrono::steady_clock::time_point done, const Answer& answer)>;

  // The gateway's certificate is checked against `gateway.ca_file` and must name
  // `gateway.host`, as the client SDK checks it. Throws std::runtime_error if the CA file
  // does not load or the host does not resolve.
  explicit ClosedLoopSenders(const client::Endpoint& gateway);
  ~ClosedLoopSenders();
  ClosedLoopSenders(const ClosedLoopSenders&) = delete;
  ClosedLoopSenders& operator=(const ClosedLoopSenders&) = delete;

  // Opens `n` connections at once (TCP, TLS), each within `timeout`; blocks. Empty when all
  // are open, else the first failure's kind ("connect:refused", "tls:...").
  std::string connect(std::size_t n, std::chrono::milliseconds timeout);

  // Connection i writes queues[i] front to back from now on, until `until` (a request begun
  // before it is finished) or until its queue is used up. A request's answer has `timeout`.
  // After a transport error (an Answer with status 0) the connection is opened again for
  // its next request; if that fails too, it stops. Blocks the calling thread, which runs
  // every connection. Call after connect(), with at most n queues.
  SendersRun run(const std::vector<std::vector<PreparedSend>>& queues, std::chrono::steady_clock::time_point until,
                 std::chrono::milliseconds timeout, const AnswerHandler& on_answer);

  // Closes every connection (TLS close_notify, bounded wait); blocks.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alliance::bench
