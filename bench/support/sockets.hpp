#pragma once
// SocketFleet: many authenticated WebSockets to the gateway held by one thread and
// one io_context (the SDK's blocking WebSocket needs a thread per socket). Each
// socket keeps a read pending, so the gateway's pings are answered, and every text
// frame is kept with the instant its read completed, or handed to a FrameHandler
// without a copy. All Beast/TLS code of the benchmarks' held sockets is in
// sockets.cpp (target bench_sockets); this header costs nothing to include.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/client/endpoint.hpp"

namespace alliance::bench {

// One text frame as it came off a socket.
struct Frame {
  std::int64_t at_us = 0;    // system clock, us since the epoch, when its read completed
  std::uint32_t socket = 0;  // index of the token the socket was opened with
  std::string text;
};

struct OpenReport {
  int ready = 0;                      // session.ready received
  int failed = 0;
  std::map<std::string, int> errors;  // "connect:refused", "upgrade:status_401", ...
  double seconds = 0;                 // first connect to the last socket ready or failed
};

class SocketFleet {
 public:
  // Called on the socket thread for each text frame after session.ready, instead of
  // keeping it (take() then returns nothing and distinct_ids() stays 0): `text` is
  // valid during the call only, and nothing is allocated per frame.
  using FrameHandler = std::function<void(std::uint32_t socket, std::int64_t at_us, std::string_view text)>;

  explicit SocketFleet(client::Endpoint gateway, FrameHandler on_frame = {});
  ~SocketFleet();  // close()
  SocketFleet(const SocketFleet&) = delete;
  SocketFleet& operator=(const SocketFleet&) = delete;

  // Opens one socket per token on GET /v1/ws (Authorization: Bearer), `concurrency`
  // at a time, each within `timeout` (TCP, TLS, upgrade and the session.ready frame).
  // Blocks until every one is ready or failed. Call once.
  OpenReport open(const std::vector<std::string>& tokens, int concurrency, std::chrono::milliseconds timeout);

  // Frames received since the last call, in arrival order (session.ready frames excluded).
  std::vector<Frame> take();
  // Distinct values of the frames' leading "id" seen so far: a cheap progress count
  // for waiting (frames are parsed properly only afterwards, off the measured path).
  std::uint64_t distinct_ids() const;
  // Sockets that were ready and have ended since (the gateway closed them, an error).
  int ended() const;

  // Runs `f` on the socket thread at `when` (system clock).
  void at(std::chrono::system_clock::time_point when, std::function<void()> f);

  // Closes every socket normally (bounded wait) and stops the thread. Idempotent.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alliance::bench
