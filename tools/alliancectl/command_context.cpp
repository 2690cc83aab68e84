#include "command_context.hpp"

#include <boost/json/serialize.hpp>
#include <ctime>
#include <iostream>

#include "alliance/client/wire.hpp"
#include "commands.hpp"

namespace alliance::ctl {

namespace json = boost::json;

Result<client::Endpoint> endpoint(const Context& ctx) {
  std::string gateway = !ctx.inv.gateway.empty() ? ctx.inv.gateway : ctx.session.gateway;
  if (gateway.empty()) {
    return invalid_argument("gateway", "no gateway: pass --gateway https://HOST:PORT or set ALLIANCE_GATEWAY");
  }
  std::string ca = !ctx.inv.ca.empty() ? ctx.inv.ca : ctx.session.ca_file;
  if (!ca.empty()) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(ca, ec);
    if (!ec) ca = abs.string();
  }
  return client::parse_gateway_url(gateway, ca);
}

std::string gateway_text(const Context& ctx) {
  return !ctx.inv.gateway.empty() ? ctx.inv.gateway : ctx.session.gateway;
}

Status require_session(const Context& ctx) {
  if (!ctx.have_session || ctx.session.tokens.access_token.empty())
    return Error{Code::kUnauthenticated, "not logged in: run 'alliancectl login' first", ""};
  return {};
}

Result<std::unique_ptr<client::AllianceClient>> logged_in_client(Context& ctx) {
  if (auto st = require_session(ctx); !st) return st.error();
  auto ep = endpoint(ctx);
  if (!ep) return ep.error();
  auto c = std::make_unique<client::AllianceClient>(*ep);
  c->set_tokens(ctx.session.tokens);
  const auto& path = ctx.inv.session;
  Session* session = &ctx.session;
  c->set_auto_refresh(true, [path, session](const client::Tokens& t) {
    session->tokens = t;
    if (auto st = save_session(path, *session); !st) {
      std::cerr << error_line(st.error()) << "\n";
    }
  });
  return c;
}

void print_json(std::ostream& out, const json::value& v) { out << json::serialize(v) << "\n"; }

void print_rows(std::ostream& out, const json::value& list, std::string_view none, Table table, const RowCells& row) {
  if (!list.is_array() || list.as_array().empty()) {
    out << none << "\n";
    return;
  }
  for (const auto& item : list.as_array()) table.add(row(item));
  table.print(out);
}

Outcome show_list(Context& ctx, const Result<json::value>& r, std::string_view list, std::string_view none, Table table,
                  const RowCells& row) {
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    print_rows(ctx.out, sub(*r, list), none, std::move(table), row);
  }
  return {};
}

std::string path_part(std::string_view id) { return client::url_encode(id); }

std::string str(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  auto* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

const json::value& sub(const json::value& v, std::string_view key) {
  static const json::value kNull;
  if (!v.is_object()) return kNull;
  auto* f = v.as_object().if_contains(key);
  return f ? *f : kNull;
}

std::int64_t int64_of(const json::value& v, std::string_view key) {
  if (!v.is_object()) return 0;
  auto n = client::json_field::int64(v.as_object(), key);
  return n ? *n : 0;
}

std::string format_ms(std::int64_t ms) {
  if (ms <= 0) return "";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%MZ", &tm);
  return buf;
}

std::string format_ms(const json::value& v) {
  std::int64_t ms = 0;
  if (v.is_string()) {
    try {
      ms = std::stoll(std::string(v.as_string()));
    } catch (...) {
      return "";
    }
  } else if (v.is_int64()) {
    ms = v.as_int64();
  } else {
    return "";
  }
  return format_ms(ms);
}

}  // namespace alliance::ctl
