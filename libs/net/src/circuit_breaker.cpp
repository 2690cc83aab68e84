#include "alliance/net/circuit_breaker.hpp"

#include <algorithm>

namespace alliance::net {

CircuitBreaker::CircuitBreaker() : CircuitBreaker(Options{}) {}

CircuitBreaker::CircuitBreaker(Options options) : options_(options) {
  options_.failure_threshold = std::max(options_.failure_threshold, 1);
}

CircuitBreaker::Admission CircuitBreaker::admit(Clock::time_point now) {
  if (state_ == State::kClosed) return Admission{};
  if (now < next_probe_) return Admission{false, false, retry_after(now)};
  // One probe per cool-down: a probe whose outcome never arrives (its caller gave
  // up, the answer was lost) does not hold the breaker half-open for ever.
  state_ = State::kHalfOpen;
  next_probe_ = now + options_.cool_down;
  return Admission{true, true, {}};
}

void CircuitBreaker::on_success() {
  state_ = State::kClosed;
  failures_ = 0;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  switch (state_) {
    case State::kClosed:
      if (++failures_ >= options_.failure_threshold) open(now);
      break;
    case State::kHalfOpen:
      open(now);
      break;
    case State::kOpen:
      break;  // already refusing; the cool-down runs from when it opened
  }
}

std::chrono::milliseconds CircuitBreaker::retry_after(Clock::time_point now) const {
  if (state_ == State::kClosed || now >= next_probe_) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(next_probe_ - now);
}

void CircuitBreaker::open(Clock::time_point now) {
  state_ = State::kOpen;
  failures_ = 0;
  next_probe_ = now + options_.cool_down;
  ++times_opened_;
}

}  // namespace alliance::net
