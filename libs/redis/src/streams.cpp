#include "alliance/redis/streams.hpp"

namespace alliance::redis {
namespace {

Error redis_error(std::string_view what, const Reply& reply) {
  Code code = reply.str.rfind("NOGROUP", 0) == 0 ? Code::kFailedPrecondition : Code::kInternal;
  return make_error(code, "redis " + std::string(what) + ": " + reply.str);
}

Error unexpected(std::string_view what) {
  return make_error(Code::kInternal, "redis " + std::string(what) + ": unexpected reply");
}

}  // namespace

asio::awaitable<Result<std::string>> xadd(Client& client, std::string_view stream, StreamFields fields,
                                          std::size_t max_len_approx) {
  if (fields.empty()) co_return invalid_argument("fields", "XADD needs at least one field");
  std::vector<std::string> args{"XADD", std::string(stream)};
  if (max_len_approx > 0) {
    args.emplace_back("MAXLEN");
    args.emplace_back("~");
    args.push_back(std::to_string(max_len_approx));
  }
  args.emplace_back("*");
  for (auto& [k, v] : fields) {
    args.push_back(std::move(k));
    args.push_back(std::move(v));
  }
  auto reply = co_await client.command(std::move(args));
  if (!reply) co_return std::move(reply).error();
  if (reply->is_error()) co_return redis_error("XADD", *reply);
  if (reply->type != Reply::Type::kString) co_return unexpected("XADD");
  co_return std::move(reply->str);
}

asio::awaitable<Status> ensure_group(Client& client, std::string_view stream, std::string_view group) {
  std::vector<std::string> args{"XGROUP", "CREATE", std::string(stream), std::string(group), "0", "MKSTREAM"};
  auto reply = co_await client.command(std::move(args));
  if (!reply) co_return std::move(reply).error();
  if (reply->is_error()) {
    if (reply->str.rfind("BUSYGROUP", 0) == 0) co_return Status{};
    co_return redis_error("XGROUP CREATE", *reply);
  }
  co_return Status{};
}

asio::awaitable<Result<std::vector<StreamEntry>>> xreadgroup(Client& client, std::string_view group,
                                                             std::string_view consumer, std::string_view stream,
                                                             std::size_t count, std::chrono::milliseconds block) {
  std::vector<std::string> args{"XREADGROUP", "GROUP", std::string(group), std::string(consumer),
                                "COUNT", std::to_string(count == 0 ? 1 : count)};
  if (block.count() > 0) {
    args.emplace_back("BLOCK");
    args.push_back(std::to_string(block.count()));
  }
  args.emplace_back("STREAMS");
  args.emplace_back(stream);
  args.emplace_back(">");
  // The server holds the reply for up to `block`: allow that on top of the usual timeout.
  auto timeout = client.options().command_timeout + block;
  auto reply = co_await client.command(std::move(args), timeout);
  if (!reply) co_return std::move(reply).error();
  if (reply->is_error()) co_return redis_error("XREADGROUP", *reply);
  std::vector<StreamEntry> out;
  if (reply->is_nil()) co_return out;  // blocked and nothing came
  // [[stream, [[id, [f, v, ...]], ...]], ...]
  if (reply->type != Reply::Type::kArray) co_return unexpected("XREADGROUP");
  for (auto& per_stream : reply->elements) {
    if (per_stream.type != Reply::Type::kArray || per_stream.elements.size() != 2) co_return unexpected("XREADGROUP");
    for (auto& entry : per_stream.elements[1].elements) {
      if (entry.type != Reply::Type::kArray || entry.elements.size() != 2) co_return unexpected("XREADGROUP");
      StreamEntry e;
      e.id = std::move(entry.elements[0].str);
      auto& kv = entry.elements[1].elements;  // nil (deleted entry) leaves this empty
      for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
        e.fields.emplace_back(std::move(kv[i].str), std::move(kv[i + 1].str));
      }
      out.push_back(std::move(e));
    }
  }
  co_return out;
}

asio::awaitable<Status> xack(Client& client, std::string_view stream, std::string_view group, std::string_view id) {
  std::vector<std::string> args{"XACK", std::string(stream), std::string(group), std::string(id)};
  auto reply = co_await client.command(std::move(args));
  if (!reply) co_return std::move(reply).error();
  if (reply->is_error()) co_return redis_error("XACK", *reply);
  co_return Status{};
}

}  // namespace alliance::redis
