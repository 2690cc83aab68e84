#pragma once
// One signed-in messaging device for the integration tests: its session, its
// Messenger and (when online) its push socket, plus everything it has received.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "alliance/client/client.hpp"
#include "alliance/client/messenger.hpp"

namespace alliance::testing {

struct Member {
  std::string user_id;
  std::unique_ptr<client::AllianceClient> api;
  std::unique_ptr<client::Messenger> messenger;
  std::unique_ptr<client::WebSocket> socket;
  std::vector<client::ReceivedMessage> inbox;
  std::vector<client::Receipt> receipts;
  std::vector<client::TypingEvent> typing;

  const std::string& device_id() const { return messenger->device().id; }

  void go_online() {
    auto s = api->open_push_socket();
    ASSERT_TRUE(s) << s.error().message;
    socket = std::move(*s);
  }

  // Handles pushes until `done()` holds or `timeout` passes; true if it held.
  bool pump_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !socket || socket->closed()) return done();
      auto event = messenger->poll(*socket, left);
      if (!event) continue;
      EXPECT_TRUE(*event) << event->error().message;
      if (!*event) continue;
      for (auto& m : (*event)->messages) inbox.push_back(std::move(m));
      if ((*event)->receipt) receipts.push_back(*(*event)->receipt);
      if ((*event)->typing) typing.push_back(*(*event)->typing);
    }
    return true;
  }

  const client::ReceivedMessage* find(const std::string& message_id) const {
    for (const auto& m : inbox) {
      if (m.message_id == message_id) return &m;
    }
    return nullptr;
  }
  bool has(const std::string& message_id) const { return find(message_id) != nullptr; }

  // The conversation's recipients asked for again until `done` holds of them (or 10 s
  // passed): messaging's device cache hears of a device or key change over Redis.
  Result<client::VerifiedRecipients> recipients_once(
      const std::string& conv, const std::function<bool(const client::VerifiedRecipients&)>& done) {
    auto list = messenger->recipients(conv, true);
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         list && !done(*list) && std::chrono::steady_clock::now() < until; list = messenger->recipients(conv, true))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return list;
  }
};

}  // namespace alliance::testing
