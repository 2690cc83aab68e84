#include "commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "alliance/client/alliance_client.hpp"
#include "session.hpp"

namespace alliance::ctl {
namespace {

namespace json = boost::json;
using client::AllianceClient;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// What a command returns: an exit code, or the Error to print.
struct Outcome {
  int code = kOk;
  std::optional<Error> error;
};
Outcome failed(Error e, int code = kFailed) { return Outcome{code, std::move(e)}; }

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

// Proto3 JSON prints int64 as a string.
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
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%MZ", &tm);
  return buf;
}

// A secret from a file: the whole content without the trailing newline.
Result<std::string> read_secret_file(const std::string& path, const std::string& option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalid_argument(option, "--" + option + ": cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return invalid_argument(option, "--" + option + ": " + path + " is empty");
  return s;
}

// One line from stdin; on a terminal, prompted on stderr and not echoed.
Result<std::string> read_secret_stdin(const std::string& prompt, const std::string& field) {
  bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    if (::tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
      tty = false;
    }
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (!got || line.empty()) return invalid_argument(field, field + ": no password given on stdin");
  return line;
}

Result<std::string> password(const Invocation& inv, const std::string& file_option, const std::string& prompt,
                             const std::string& field) {
  if (auto it = inv.options.find(file_option); it != inv.options.end()) return read_secret_file(it->second, file_option);
  return read_secret_stdin(prompt, field);
}

// Everything a command needs to reach the gateway.
struct Context {
  const Invocation& inv;
  std::ostream& out;
  Session session;
  bool have_session = false;
};

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

void print_json(std::ostream& out, const json::value& v) { out << json::serialize(v) << "\n"; }

// A client logged in from the session file, refreshing (and saving) tokens as needed.
Result<std::unique_ptr<AllianceClient>> logged_in_client(Context& ctx) {
  if (!ctx.have_session || ctx.session.tokens.access_token.empty()) {
    return Error{Code::kUnauthenticated, "not logged in: run 'alliancectl login' first", ""};
  }
  auto ep = endpoint(ctx);
  if (!ep) return ep.error();
  auto c = std::make_unique<AllianceClient>(*ep);
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

Outcome practice_create(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto ep = endpoint(ctx);
  if (!ep) return failed(ep.error());
  auto operator_token = read_secret_file(o.at("operator-token-file"), "operator-token-file");
  if (!operator_token) return failed(operator_token.error());
  // An operator token is one line; stray spaces around it are copy-paste noise.
  auto& tok = *operator_token;
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.pop_back();
  auto pw = password(ctx.inv, "admin-password-file", "Password for " + o.at("admin-email") + ": ", "admin_password");
  if (!pw) return failed(pw.error());
  json::object body;
  body["operator_token"] = tok;
  body["name"] = o.at("name");
  body["slug"] = o.at("slug");
  body["admin_email"] = o.at("admin-email");
  body["admin_password"] = *pw;
  body["admin_display_name"] = o.at("admin-name");
  AllianceClient c(*ep);
  json::value v = body;
  auto r = c.call_json("POST", "/v1/practices", &v, false);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    const auto& p = sub(*r, "practice");
    const auto& a = sub(*r, "admin");
    ctx.out << "created practice " << str(p, "name") << " (" << str(p, "slug") << ") id " << str(p, "id") << "\n"
            << "admin " << str(a, "display_name") << " <" << str(a, "email") << "> id " << str(a, "id") << "\n";
  }
  return {};
}

Outcome login(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto ep = endpoint(ctx);
  if (!ep) return failed(ep.error());
  auto pw = password(ctx.inv, "password-file", "Password for " + o.at("email") + ": ", "password");
  if (!pw) return failed(pw.error());
  AllianceClient c(*ep);
  json::object body;
  body["practice"] = o.at("practice");
  body["email"] = o.at("email");
  body["password"] = *pw;
  json::value v = body;
  auto r = c.call_json("POST", "/v1/auth/login", &v, false);
  if (!r) return failed(r.error());
  auto tokens = client::tokens_from_json(*r);
  if (!tokens) return failed(tokens.error());
  Session s;
  s.gateway = gateway_text(ctx);
  s.ca_file = ep->ca_file.string();
  s.tokens = *tokens;
  if (auto st = save_session(ctx.inv.session, s); !st) return failed(st.error());
  if (ctx.inv.json) {
    // The server's JSON minus the tokens: they belong in the 0600 session file, not on a terminal.
    json::value shown = *r;
    shown.as_object().erase("access_token");
    shown.as_object().erase("refresh_token");
    print_json(ctx.out, shown);
  } else {
    const auto& u = sub(*r, "user");
    ctx.out << "logged in to " << o.at("practice") << " as " << str(u, "email") << " (" << str(u, "role")
            << "); session saved to " << ctx.inv.session.string() << "\n";
  }
  return {};
}

Outcome logout(Context& ctx) {
  if (!ctx.have_session) {
    if (!ctx.inv.json) ctx.out << "not logged in\n";
    return {};
  }
  auto c = logged_in_client(ctx);
  Status server = c ? (*c)->logout() : Status(c.error());
  // Forget the tokens locally whatever the server said; an expired session is already over.
  if (auto st = remove_session(ctx.inv.session); !st) return failed(st.error());
  if (!server && server.error().code != Code::kUnauthenticated) {
    Error e = server.error();
    e.message += " (local session removed; the server-side session may still be active until it expires)";
    return failed(e);
  }
  if (ctx.inv.json) {
    ctx.out << "{}\n";
  } else {
    ctx.out << "logged out\n";
  }
  return {};
}

Outcome whoami(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto r = (*c)->me();
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
    return {};
  }
  const auto& u = sub(*r, "user");
  const auto& p = sub(*r, "practice");
  ctx.out << "user:     " << str(u, "display_name") << " <" << str(u, "email") << ">\n"
          << "role:     " << str(u, "role") << "\n"
          << "user id:  " << str(u, "id") << "\n"
          << "practice: " << str(p, "name") << " (" << str(p, "slug") << ") id " << str(p, "id") << "\n"
          << "gateway:  " << gateway_text(ctx) << "\n";
  return {};
}

// Opens the user's push socket and prints each JSON frame on its own line until
// --count frames arrived, --seconds passed, or the server closed the socket.
Outcome watch(Context& ctx) {
  const auto& o = ctx.inv.options;
  long long count = 0, seconds = 0;
  try {
    if (o.count("count")) count = std::stoll(o.at("count"));
    if (o.count("seconds")) seconds = std::stoll(o.at("seconds"));
  } catch (const std::exception&) {
    return failed(invalid_argument("count", "--count and --seconds take whole numbers"), kUsage);
  }
  if (count < 0 || seconds < 0) return failed(invalid_argument("count", "--count and --seconds must be positive"), kUsage);
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto socket = (*c)->open_push_socket();
  if (!socket) return failed(socket.error());
  if (!ctx.inv.json) std::cerr << "watching pushes (Ctrl-C to stop)\n";
  auto until = seconds > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(seconds)
                           : std::chrono::steady_clock::time_point::max();
  long long seen = 0;
  while ((count == 0 || seen < count) && std::chrono::steady_clock::now() < until) {
    auto frame = (*socket)->read_text(std::chrono::milliseconds(250));
    if (frame) {
      ctx.out << *frame << "\n" << std::flush;
      ++seen;
    } else if ((*socket)->closed()) {
      return failed(Error{Code::kUnavailable,
                          "the server closed the socket (" + std::to_string((*socket)->close_code()) + " " +
                              (*socket)->close_reason() + ")",
                          {}});
    }
  }
  return {};
}

Outcome user_create(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto pw = password(ctx.inv, "password-file", "Password for " + o.at("email") + ": ", "password");
  if (!pw) return failed(pw.error());
  json::object body;
  body["email"] = o.at("email");
  body["password"] = *pw;
  body["display_name"] = o.at("name");
  body["role"] = o.at("role");
  auto r = (*c)->post_json("/v1/users", body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    const auto& u = sub(*r, "user");
    ctx.out << "created " << str(u, "role") << " " << str(u, "display_name") << " <" << str(u, "email") << "> id "
            << str(u, "id") << "\n";
  }
  return {};
}

Outcome user_list(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  std::string target = "/v1/users";
  if (auto it = ctx.inv.options.find("role"); it != ctx.inv.options.end()) {
    target += "?role=" + client::url_encode(it->second);
  }
  auto r = (*c)->get_json(target);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
    return {};
  }
  const auto& users = sub(*r, "users");
  if (!users.is_array() || users.as_array().empty()) {
    ctx.out << "no users\n";
    return {};
  }
  ctx.out << std::left << std::setw(34) << "ID" << std::setw(12) << "ROLE" << std::setw(32) << "EMAIL" << "NAME\n";
  for (const auto& u : users.as_array()) {
    ctx.out << std::left << std::setw(34) << str(u, "id") << std::setw(12) << str(u, "role") << std::setw(32)
            << str(u, "email") << str(u, "display_name") << "\n";
  }
  return {};
}

Outcome care_team_add(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::object body;
  body["client_id"] = o.at("client");
  body["therapist_id"] = o.at("therapist");
  auto r = (*c)->post_json("/v1/care-team", body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    const auto& l = sub(*r, "link");
    ctx.out << "client " << str(l, "client_id") << " now has therapist " << str(l, "therapist_id") << "\n";
  }
  return {};
}

Outcome care_team_list(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto r = (*c)->get_json("/v1/care-team?client_id=" + client::url_encode(ctx.inv.options.at("client")));
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
    return {};
  }
  const auto& links = sub(*r, "links");
  if (!links.is_array() || links.as_array().empty()) {
    ctx.out << "no therapists on this client's care team\n";
    return {};
  }
  ctx.out << std::left << std::setw(34) << "THERAPIST" << "SINCE\n";
  for (const auto& l : links.as_array()) {
    ctx.out << std::left << std::setw(34) << str(l, "therapist_id") << format_ms(sub(l, "created_unix_ms")) << "\n";
  }
  return {};
}

}  // namespace

std::string error_line(const Error& e) {
  std::string line = "error: " + e.message;
  if (!e.field.empty()) line += " (field: " + e.field + ")";
  if (e.retry_after.count() > 0) {
    line += " (retry after " + std::to_string((e.retry_after.count() + 999) / 1000) + " s)";
  }
  return line;
}

int run(const Invocation& inv, std::ostream& out, std::ostream& err) {
  if (inv.help) {
    out << usage();
    return kOk;
  }
  if (inv.session.empty()) {
    err << error_line(invalid_argument("session", "no session file: pass --session FILE or set HOME")) << "\n";
    return kUsage;
  }
  Context ctx{inv, out, {}, false};
  if (auto s = load_session(inv.session); s) {
    ctx.session = std::move(*s);
    ctx.have_session = true;
  } else if (s.error().code != Code::kNotFound) {
    err << error_line(s.error()) << "\n";
    return kFailed;
  }

  Outcome result;
  const std::string& c = inv.command;
  if (c == "practice create") {
    result = practice_create(ctx);
  } else if (c == "login") {
    result = login(ctx);
  } else if (c == "logout") {
    result = logout(ctx);
  } else if (c == "whoami") {
    result = whoami(ctx);
  } else if (c == "watch") {
    result = watch(ctx);
  } else if (c == "user create") {
    result = user_create(ctx);
  } else if (c == "user list") {
    result = user_list(ctx);
  } else if (c == "care-team add") {
    result = care_team_add(ctx);
  } else if (c == "care-team list") {
    result = care_team_list(ctx);
  } else {
    result = failed(invalid_argument("command", "unknown command '" + c + "'"), kUsage);
  }
  // A missing or malformed gateway address is a usage error wherever it is found.
  if (result.error && result.error->code == Code::kInvalidArgument && result.error->field == "gateway") {
    result.code = kUsage;
  }
  if (result.error) {
    err << error_line(*result.error) << "\n";
    if (result.code == kUsage) err << usage();
  }
  return result.code;
}

}  // namespace alliance::ctl
