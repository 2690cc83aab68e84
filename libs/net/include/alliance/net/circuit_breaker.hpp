#pragma once
// CircuitBreaker: whether calls to one upstream should be tried at all. Plain
// state, no sockets and no clock of its own (every method takes `now`), so it is
// driven by RpcClient and tested alone. Not thread-safe: one owner (the client's
// executor).
//
//   closed    every call goes ahead; `failure_threshold` transport failures in a
//             row (failed connects, lost connections, calls with no answer) open it
//   open      calls are refused at once until the cool-down ends
//   half-open after the cool-down one call per cool-down goes ahead as a probe;
//             a success (a connect, any answer) closes it, a failure opens it again
#include <chrono>
#include <cstdint>

namespace alliance::net {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kClosed, kOpen, kHalfOpen };

  struct Options {
    int failure_threshold = 3;            // transport failures in a row that open it (>= 1)
    std::chrono::milliseconds cool_down{1000};  // open -> the next probe may go
  };

  struct Admission {
    bool allowed = true;
    bool probe = false;                      // allowed as the half-open probe
    std::chrono::milliseconds retry_after{0};  // when refused: until the next probe may go
  };

  CircuitBreaker();
  explicit CircuitBreaker(Options options);

  // Asks to make a call now.
  Admission admit(Clock::time_point now);
  // The upstream answered (anything, errors included) or a connection was made.
  void on_success();
  // A transport failure: a connect failed, a connection was lost, a call got no answer.
  void on_failure(Clock::time_point now);

  State state() const { return state_; }
  // True while calls are refused (open, or half-open with this cool-down's probe spent).
  bool refusing(Clock::time_point now) const { return state_ != State::kClosed && now < next_probe_; }
  std::chrono::milliseconds retry_after(Clock::time_point now) const;
  std::uint64_t times_opened() const { return times_opened_; }

 private:
  void open(Clock::time_point now);

  Options options_;
  State state_ = State::kClosed;
  int failures_ = 0;                // in a row, while closed
  Clock::time_point next_probe_{};  // while open/half-open: when the next call may go
  std::uint64_t times_opened_ = 0;
};

}  // namespace alliance::net
