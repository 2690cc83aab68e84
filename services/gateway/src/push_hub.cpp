#include "push_hub.hpp"

#include <algorithm>

#include "alliance/core/log.hpp"
#include "alliance/redis/push.hpp"
#include "json_print.hpp"

namespace alliance::gateway {

PushHub::PushHub(Hooks hooks, SocketLimits limits) : hooks_(std::move(hooks)), limits_(limits) {}

Status PushHub::add(const std::string& user_id, const std::string& session_id, PushSink* sink,
                    std::string_view staff_practice) {
  PushSink* replaced = nullptr;
  if (auto it = by_session_.find(session_id); it != by_session_.end() && it->second.size() >= limits_.per_session)
    replaced = it->second.front();
  auto& list = by_user_[user_id];
  // With a socket to replace, the user's count does not grow.
  if (!replaced && list.size() >= limits_.per_user)
    return Error{Code::kResourceExhausted,
                 "ws_max_per_user: this user already has " + std::to_string(limits_.per_user) +
                     " open WebSockets on this gateway; close one before opening another",
                 {}};
  bool first = list.empty();
  list.push_back(Entry{session_id, sink});
  by_session_[session_id].push_back(sink);
  ++sockets_;
  if (first && hooks_.subscribe) hooks_.subscribe(redis::push_channel(user_id));
  if (!staff_practice.empty()) {
    auto& staff = by_practice_[std::string(staff_practice)];
    if (staff.empty() && hooks_.subscribe) hooks_.subscribe(redis::staff_push_channel(staff_practice));
    staff.push_back(sink);
    staff_practice_of_.emplace(sink, staff_practice);
  }
  if (replaced) {
    // Added first, so the user's channel stays subscribed throughout.
    replaced->close_with(kCloseReplaced, "replaced by a newer socket of this session (ws_max_per_session = " +
                                             std::to_string(limits_.per_session) + ")");
    remove(user_id, session_id, replaced);  // close_with may have done it already
  }
  return {};
}

void PushHub::remove(const std::string& user_id, const std::string& session_id, PushSink* sink) {
  if (auto it = by_user_.find(user_id); it != by_user_.end()) {
    auto& list = it->second;
    auto before = list.size();
    std::erase_if(list, [&](const Entry& e) { return e.sink == sink; });
    sockets_ -= before - list.size();
    if (list.empty()) {
      by_user_.erase(it);
      if (hooks_.unsubscribe) hooks_.unsubscribe(redis::push_channel(user_id));
    }
  }
  if (auto it = by_session_.find(session_id); it != by_session_.end()) {
    std::erase(it->second, sink);
    if (it->second.empty()) by_session_.erase(it);
  }
  if (auto it = staff_practice_of_.find(sink); it != staff_practice_of_.end()) {
    if (auto staff = by_practice_.find(it->second); staff != by_practice_.end()) {
      std::erase(staff->second, sink);
      if (staff->second.empty()) {
        if (hooks_.unsubscribe) hooks_.unsubscribe(redis::staff_push_channel(it->second));
        by_practice_.erase(staff);
      }
    }
    staff_practice_of_.erase(it);
  }
}

void PushHub::on_message(std::string_view channel, std::string_view payload) {
  if (channel == kRevocationChannel) {
    push::v1::SessionRevoked revoked;
    if (!revoked.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      log::warn("malformed revocation message", {{"bytes", payload.size()}});
      return;
    }
    if (hooks_.revoked) hooks_.revoked(revoked.session_id(), revoked.expires_unix_ms());
    close_session(revoked.session_id(), "session revoked");
    return;
  }
  if (channel.starts_with(redis::kPushChannelPrefix)) {
    auto it = by_user_.find(channel.substr(redis::kPushChannelPrefix.size()));
    if (it == by_user_.end()) return;  // raced with the last socket leaving
    targets_.clear();
    for (const auto& e : it->second) targets_.push_back(e.sink);
    deliver(channel, payload);
  } else if (channel.starts_with(redis::kStaffPushChannelPrefix)) {
    auto it = by_practice_.find(channel.substr(redis::kStaffPushChannelPrefix.size()));
    if (it == by_practice_.end()) return;
    targets_.assign(it->second.begin(), it->second.end());
    deliver(channel, payload);
  }
}

void PushHub::deliver(std::string_view channel, std::string_view payload) {
  if (!frame_.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    ++dropped_;
    log::warn("malformed push frame", {{"channel", channel}, {"bytes", payload.size()}});
    return;
  }
  auto buffer = free_buffer();
  print_json_into(frame_, *buffer);
  std::shared_ptr<const std::string> json = std::move(buffer);
  for (auto* sink : targets_) {
    sink->deliver(json);
    ++delivered_;
  }
}

std::shared_ptr<std::string> PushHub::free_buffer() {
  // Writes finish in about the order they start, so the oldest buffers free up first:
  // look at a few from where the last search stopped.
  static constexpr std::size_t kPooled = 64, kLooks = 4, kKeptBytes = 16 * 1024;
  for (std::size_t i = 0; i < std::min(kLooks, buffers_.size()); ++i) {
    auto& b = buffers_[next_buffer_];
    next_buffer_ = (next_buffer_ + 1) % buffers_.size();
    if (b.use_count() == 1) {
      if (b->capacity() > kKeptBytes) std::string().swap(*b);
      return b;
    }
  }
  auto fresh = std::make_shared<std::string>();
  if (buffers_.size() < kPooled) buffers_.push_back(fresh);
  return fresh;
}

void PushHub::close_session(const std::string& session_id, std::string_view reason) {
  auto it = by_session_.find(session_id);
  if (it == by_session_.end()) return;
  auto sinks = it->second;
  for (auto* s : sinks) s->close_with(kCloseSessionRevoked, std::string(reason));
}

}  // namespace alliance::gateway
