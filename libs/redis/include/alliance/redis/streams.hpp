#pragma once
// Redis Streams for domain events, on top of Client::command. Consumers read with a
// consumer group (at-least-once) and must be idempotent by event id. Redis error replies
// become Errors here (kFailedPrecondition for a missing group, kInternal otherwise).
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/redis/client.hpp"

namespace alliance::redis {

struct StreamEntry {
  std::string id;                                            // "1700000000000-0"
  std::vector<std::pair<std::string, std::string>> fields;   // in the order they were added
};

using StreamFields = std::vector<std::pair<std::string, std::string>>;

// XADD stream [MAXLEN ~ max_len_approx] * field value ...; returns the new entry id.
// max_len_approx 0 means no trimming.
asio::awaitable<Result<std::string>> xadd(Client& client, std::string_view stream, StreamFields fields,
                                          std::size_t max_len_approx = 0);

// XGROUP CREATE stream group 0 MKSTREAM: a new group starts at the beginning of the
// stream (nothing published before the consumer first ran is lost). An existing group
// (BUSYGROUP) is success.
asio::awaitable<Status> ensure_group(Client& client, std::string_view stream, std::string_view group);

// XREADGROUP GROUP group consumer COUNT count [BLOCK block] STREAMS stream >: up to
// `count` (0 counts as 1) new entries, empty after `block` with none. block 0 means
// don't block. The call ties up the connection while it blocks: use a dedicated Client
// for it. Its timeout is the Client's command_timeout plus `block`.
asio::awaitable<Result<std::vector<StreamEntry>>> xreadgroup(Client& client, std::string_view group,
                                                             std::string_view consumer, std::string_view stream,
                                                             std::size_t count, std::chrono::milliseconds block);

// XACK stream group id.
asio::awaitable<Status> xack(Client& client, std::string_view stream, std::string_view group, std::string_view id);

}  // namespace alliance::redis
