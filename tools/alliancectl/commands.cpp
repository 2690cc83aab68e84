#include "commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/messenger.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/crypto/message_seal.hpp"
#include "command_context.hpp"
#include "device_session.hpp"
#include "identity_commands.hpp"
#include "audit_commands.hpp"
#include "checkin_commands.hpp"
#include "reminders_commands.hpp"
#include "scheduling_commands.hpp"
#include "two_factor_commands.hpp"
#include "user_commands.hpp"
#include "session.hpp"
#include "table.hpp"

namespace alliance::ctl {
namespace {

namespace json = boost::json;
using client::AllianceClient;

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
  if (!got || line.empty())
    return invalid_argument(field, field + ": no " + (field == "code" ? "code" : "password") + " given on stdin");
  return line;
}

}  // namespace

Result<std::string> password(const Invocation& inv, const std::string& file_option, const std::string& prompt,
                             const std::string& field) {
  if (auto it = inv.options.find(file_option); it != inv.options.end()) return read_secret_file(it->second, file_option);
  return read_secret_stdin(prompt, field);
}

namespace {

// The operator token from --operator-token-file.
Result<std::string> operator_token(const Invocation& inv) {
  auto token = read_secret_file(inv.options.at("operator-token-file"), "operator-token-file");
  if (!token) return token;
  // An operator token is one line; stray spaces around it are copy-paste noise.
  auto& tok = *token;
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.pop_back();
  return token;
}

Outcome practice_create(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto ep = endpoint(ctx);
  if (!ep) return failed(ep.error());
  auto operator_token_read = operator_token(ctx.inv);
  if (!operator_token_read) return failed(operator_token_read.error());
  const auto& tok = *operator_token_read;
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

// audit prune: the operator's retention run (POST /v1/audit/prune).
Outcome audit_prune(Context& ctx) {
  auto ep = endpoint(ctx);
  if (!ep) return failed(ep.error());
  auto tok = operator_token(ctx.inv);
  if (!tok) return failed(tok.error());
  json::value body = json::object{{"operator_token", *tok}, {"before", ctx.inv.options.at("before")}};
  AllianceClient c(*ep);
  auto r = c.call_json("POST", "/v1/audit/prune", &body, false);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    ctx.out << "pruned " << str(*r, "records") << " audit records up to seq " << str(*r, "through_seq")
            << "; archived in " << str(*r, "archive") << " (identity's data directory)\n";
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
  if (!tokens->two_factor) return save_signed_in(ctx, *ep, *r);
  if (tokens->two_factor->enrolment_required) return enrol_at_sign_in(ctx, *ep, *tokens);
  // --code for scripts; else asked for (read from stdin after the password).
  Result<std::string> code = o.count("code") ? Result<std::string>(o.at("code"))
                                             : password(ctx.inv, "", "Code from your authenticator app (or a recovery code): ", "code");
  if (!code) return failed(code.error());
  json::value second = json::object{{"challenge", tokens->two_factor->challenge}, {"code", *code}};
  auto done = c.call_json("POST", "/v1/auth/two-factor", &second, false);
  if (!done) return failed(done.error());
  return save_signed_in(ctx, *ep, *done);
}

}  // namespace

Outcome save_signed_in(Context& ctx, const client::Endpoint& ep, const json::value& response) {
  auto tokens = client::tokens_from_json(response);
  if (!tokens) return failed(tokens.error());
  Session s;
  s.gateway = gateway_text(ctx);
  s.ca_file = ep.ca_file.string();
  s.tokens = *tokens;
  // The same user again: keep the identity key and what this user trusts (peers'
  // keys, verified safety numbers, the practice key), so the next `device register`
  // is certified at once and no peer sees an identity change. The old session's
  // device, cursors and history checks went with it.
  const bool kept = carry_over_identity(ctx.inv.session, s);
  if (auto st = save_session(ctx.inv.session, s); !st) return failed(st.error());
  if (ctx.inv.json) {
    // The server's JSON minus the tokens: they belong in the 0600 session file, not on a terminal.
    json::value shown = response;
    shown.as_object().erase("access_token");
    shown.as_object().erase("refresh_token");
    print_json(ctx.out, shown);
  } else {
    const auto& u = sub(response, "user");
    ctx.out << "logged in";
    if (auto it = ctx.inv.options.find("practice"); it != ctx.inv.options.end()) ctx.out << " to " << it->second;
    ctx.out << " as " << str(u, "email") << " (" << str(u, "role") << "); session saved to "
            << ctx.inv.session.string() << "\n";
    if (kept) ctx.out << "kept your identity key: `alliancectl device register` certifies this session's device with it\n";
    if (!tokens->recovery_codes.empty()) ctx.out << recovery_codes_text(tokens->recovery_codes);
  }
  return {};
}

namespace {

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
  return show_list(ctx, (*c)->get_json(target), "users", "no users",
                   Table({{"ID", 34}, {"ROLE", 12}, {"STATE", 12}, {"EMAIL", 32}, {"NAME", 0}}),
                   [](const json::value& u) -> std::vector<std::string> {
                     const bool active = int64_of(u, "deactivated_unix_ms") == 0;
                     return {str(u, "id"), str(u, "role"), active ? "active" : "deactivated", str(u, "email"),
                             str(u, "display_name")};
                   });
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
  return show_list(ctx, (*c)->get_json("/v1/care-team?client_id=" + client::url_encode(ctx.inv.options.at("client"))),
                   "links", "no therapists on this client's care team", Table({{"THERAPIST", 34}, {"SINCE", 0}}),
                   [](const json::value& l) -> std::vector<std::string> {
                     return {str(l, "therapist_id"), format_ms(sub(l, "created_unix_ms"))};
                   });
}


// ---- end-to-end encrypted messaging ----

// Message text from --text (a literal, or "-" for stdin) or --text-file (a path, or "-").
// One trailing newline is dropped (what `echo` and editors add).
Result<std::string> message_text(const Invocation& inv) {
  std::string text;
  std::string option = inv.options.count("text-file") ? "text-file" : "text";
  const std::string& value = inv.options.at(option);
  if (option == "text" && value != "-") {
    text = value;
  } else if (value == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(value, std::ios::binary);
    if (!in) return invalid_argument(option, "--" + option + ": cannot read " + value);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return invalid_argument(option, "--" + option + ": the message is empty");
  return text;
}

// Registers this session's device (or confirms the one it has), then sets up the
// user's identity key on it as `device identity` does.
Outcome device_register(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  std::optional<client::Device> device;
  if (ctx.session.device) {
    // The same keys again answer the same device: this only confirms it is still active.
    auto again = client::register_device(**c, ctx.session.device->name, ctx.session.device->keys);
    if (!again) return failed(again.error());
    if (!ctx.inv.json) {
      ctx.out << "this session already has device " << again->id << " (" << terminal_safe(again->name) << ")\n";
    }
    device = std::move(*again);
  } else {
    std::string name = ctx.inv.options.count("name") ? ctx.inv.options.at("name") : "alliancectl";
    auto registered = client::register_device(**c, name, crypto::generate_device_keys());
    if (!registered) return failed(registered.error());
    ctx.session.device = *registered;
    if (auto st = save(ctx); !st) {
      Error e = st.error();
      e.message += " (device " + registered->id + " was registered but its keys could not be kept: revoke it)";
      return failed(e);
    }
    if (!ctx.inv.json) {
      ctx.out << "registered device " << registered->id << " (" << terminal_safe(registered->name)
              << "); its private keys are in " << ctx.inv.session.string() << " (mode 0600)\n";
    }
    device = std::move(*registered);
  }
  Outcome identity = set_up_device_identity(ctx, **c, json::object{{"id", device->id}, {"name", device->name}});
  if (identity.error) {
    identity.error->message +=
        " (device " + device->id + " is registered: run 'alliancectl device identity' to try again)";
  }
  return identity;
}

Outcome device_list(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  return show_list(ctx, (*c)->get_json("/v1/devices"), "devices", "no devices",
                   Table({{"", 2}, {"ID", 34}, {"NAME", 26}, {"CREATED", 20}, {"STATE", 0}}),
                   [](const json::value& d) -> std::vector<std::string> {
                     bool current = sub(d, "current").is_bool() && sub(d, "current").as_bool();
                     std::int64_t revoked = int64_of(d, "revoked_unix_ms");
                     return {current ? "*" : "", str(d, "id"), str(d, "name"), format_ms(sub(d, "created_unix_ms")),
                             revoked > 0 ? "revoked " + format_ms(revoked) : std::string("active")};
                   });
}

Outcome device_revoke(Context& ctx) {
  const std::string& id = ctx.inv.options.at("id");
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = json::object{};
  auto r = (*c)->post_json("/v1/devices/" + path_part(id) + "/revoke", body);
  if (!r) return failed(r.error());
  bool own = ctx.session.device && ctx.session.device->id == id;
  // Revoking this session's own device ends the session: its tokens and keys are useless now.
  if (own) {
    if (auto st = remove_session(ctx.inv.session); !st) return failed(st.error());
  }
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    ctx.out << "revoked device " << id << "\n";
    if (own) ctx.out << "that was this session's device: the session has ended; log in again\n";
  }
  return {};
}

Outcome conversation_open(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = json::object{{"client_id", o.at("client")}, {"therapist_id", o.at("therapist")}};
  auto r = (*c)->post_json("/v1/conversations", body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    // The id alone, so that CONV=$(alliancectl conversation open ...) works.
    ctx.out << str(sub(*r, "conversation"), "id") << "\n";
  }
  return {};
}

Outcome conversation_list(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  return show_list(ctx, (*c)->get_json("/v1/conversations"), "conversations", "no conversations",
                   Table({{"ID", 34}, {"CLIENT", 34}, {"THERAPIST", 34}, {"LAST", 7}, {"READ", 7}, {"STATE", 0}}),
                   [](const json::value& v) -> std::vector<std::string> {
                     std::int64_t erased = int64_of(v, "erased_unix_ms");
                     return {str(v, "id"),
                             str(v, "client_id"),
                             str(v, "therapist_id"),
                             std::to_string(int64_of(v, "last_seq")),
                             std::to_string(int64_of(v, "read_seq")),
                             erased > 0 ? "erased " + format_ms(erased) : std::string("open")};
                   });
}

Outcome conversation_erase(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = json::object{{"reason", o.at("reason")}};
  auto r = (*c)->post_json("/v1/conversations/" + path_part(o.at("id")) + "/erase", body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    const auto& rec = sub(*r, "record");
    ctx.out << "erased conversation " << o.at("id") << ": content of " << int64_of(rec, "messages_affected")
            << " message(s) deleted; record " << str(rec, "id") << "\n";
  }
  return {};
}

json::object message_json(const client::ReceivedMessage& m) {
  json::object o;
  o["conversation_id"] = m.conversation_id;
  o["seq"] = m.seq;
  o["message_id"] = m.message_id;
  o["sender_user_id"] = m.sender_user_id;
  o["sender_device_id"] = m.sender_device_id;
  o["sent_unix_ms"] = m.sent_unix_ms;
  o["kind"] = m.kind;
  o["format"] = m.format;
  if (m.is_system()) o["system_text"] = m.system_text;
  if (m.readable()) o["text"] = m.plaintext;
  o["expired"] = m.expired;
  if (m.duplicate) o["duplicate"] = true;
  if (!m.error.empty()) o["error"] = m.error;
  if (!m.integrity.empty()) {
    json::array lines;
    for (const auto& line : m.integrity) lines.emplace_back(line);
    o["integrity"] = std::move(lines);
  }
  return o;
}

Outcome message_send(Context& ctx) {
  const std::string& conversation = ctx.inv.options.at("conversation");
  auto text = message_text(ctx.inv);
  if (!text) return failed(text.error());
  auto ds = device_session(ctx);
  if (!ds) return failed(ds.error());
  auto sent = ds->messenger->send(conversation, *text);
  // Whatever the send's outcome, the devices it verified stay pinned (and a sent
  // message's counter stays used). A file that cannot be written does not make an
  // accepted message look refused.
  if (keep_state(ctx, *ds->messenger, {conversation})) {
    if (auto st = save(ctx); !st) ctx.err << error_line(st.error()) << "\n";
  }
  if (!sent) {
    Error e = sent.error();
    // The SDK's reason names the device or key it would not trust; say where to look.
    if (e.field == "recipients" && ctx.session.identity) {
      e.message += "; see why with `alliancectl conversation verify --id " + conversation + "`";
    }
    return failed(e);
  }
  if (ctx.inv.json) {
    print_json(ctx.out, json::object{{"seq", sent->seq}, {"message_id", sent->message_id}});
  } else {
    ctx.out << "sent seq " << sent->seq << " message " << sent->message_id << "\n";
  }
  if (auto list = ds->messenger->recipients(conversation); list && ctx.session.identity) {
    for (const auto& user : list->unverified_users) {
      ctx.err << "warning: " << user
              << " has no identity key yet (an older app): their devices are trusted on the server's word, and "
                 "messages go out in format 1 until they set one up\n";
    }
  }
  return {};
}

Outcome message_sync(Context& ctx) {
  const std::string& conversation = ctx.inv.options.at("conversation");
  auto ds = device_session(ctx);
  if (!ds) return failed(ds.error());
  auto messages = ds->messenger->sync(conversation);
  if (!messages) {
    if (keep_state(ctx, *ds->messenger, {conversation})) (void)save(ctx);
    return failed(messages.error());
  }
  std::int64_t cursor = ds->messenger->last_seq(conversation);
  const bool state_changed = keep_state(ctx, *ds->messenger, {conversation});
  if (cursor != ctx.session.cursors[conversation] || state_changed) {
    ctx.session.cursors[conversation] = cursor;
    if (auto st = save(ctx); !st) return failed(st.error());
  }
  const Reader reader{ctx.session.tokens.user_id, ctx.session.device->id};
  if (ctx.inv.json) {
    json::array list;
    for (const auto& m : *messages)
      if (shown(m, reader)) list.push_back(message_json(m));
    print_json(ctx.out, json::object{{"messages", std::move(list)}, {"last_seq", cursor}});
    return {};
  }
  bool shown = false;
  for (const auto& m : *messages) {
    auto lines = message_lines(m, reader);
    shown = shown || !lines.empty();
    ctx.out << lines;
  }
  if (!shown) ctx.err << "no new messages\n";
  return {};
}

Outcome message_read(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value body = json::object{{"seq", std::stoll(o.at("seq"))}};
  auto r = (*c)->post_json("/v1/conversations/" + path_part(o.at("conversation")) + "/read", body);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    ctx.out << "read up to seq " << int64_of(sub(*r, "receipt"), "seq") << "\n";
  }
  return {};
}

const char* weekday_name(std::int64_t d) {
  static const char* kNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  return d >= 0 && d < 7 ? kNames[d] : "?";
}

void print_hours(std::ostream& out, const json::value& hours) {
  out << "messaging hours of " << str(hours, "therapist_id") << " (" << str(hours, "time_zone") << "):";
  const auto& windows = sub(hours, "windows");
  if (windows.is_array()) {
    const char* sep = " ";
    for (const auto& w : windows.as_array()) {
      out << sep << weekday_name(int64_of(w, "weekday")) << " " << str(w, "start") << "-" << str(w, "end");
      sep = ", ";
    }
  }
  out << "\n";
  if (auto h = int64_of(hours, "expected_reply_hours"); h > 0) out << "expected reply within " << h << " hours\n";
}

Outcome messaging_hours_set(Context& ctx) {
  const auto& o = ctx.inv.options;
  json::array windows;
  for (const auto& text : ctx.inv.lists.at("window")) {
    auto w = parse_window(text);
    if (!w) return failed(w.error(), kUsage);
    windows.push_back(json::object{{"weekday", w->weekday}, {"start", w->start}, {"end", w->end}});
  }
  json::object body;
  body["time_zone"] = o.at("time-zone");
  body["windows"] = std::move(windows);
  if (o.count("expected-reply-hours")) body["expected_reply_hours"] = std::stoll(o.at("expected-reply-hours"));
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  json::value v = body;
  auto r = (*c)->put_json("/v1/therapists/" + path_part(o.at("therapist")) + "/messaging-hours", v);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    print_hours(ctx.out, sub(*r, "hours"));
  }
  return {};
}

Outcome messaging_hours_show(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto r = (*c)->get_json("/v1/therapists/" + path_part(ctx.inv.options.at("therapist")) + "/messaging-hours");
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else if (sub(*r, "hours").is_object()) {
    print_hours(ctx.out, sub(*r, "hours"));
  } else {
    ctx.out << "no messaging hours set: every message counts as within hours\n";
  }
  return {};
}

void print_policy(std::ostream& out, const json::value& p) {
  std::int64_t notice = int64_of(p, "notice_period_minutes");
  std::int64_t retention = int64_of(p, "retention_days");
  out << "after-hours notice at most every " << (notice > 0 ? notice : 720) << " minutes per conversation\n"
      << "message content kept " << (retention > 0 ? "for " + std::to_string(retention) + " days" : "forever")
      << "\n";
  std::string crisis = str(p, "crisis_text");
  out << "crisis text: " << (crisis.empty() ? std::string("(none)") : terminal_safe(crisis, "  ")) << "\n";
}

Outcome messaging_policy_set(Context& ctx) {
  const auto& o = ctx.inv.options;
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  // The request sets every field: start from the current policy so an option left out keeps its value.
  auto current = (*c)->get_json("/v1/messaging/policy");
  if (!current) return failed(current.error());
  const auto& p = sub(*current, "policy");
  json::object body;
  body["crisis_text"] = str(p, "crisis_text");
  body["notice_period_minutes"] = int64_of(p, "notice_period_minutes");
  body["retention_days"] = int64_of(p, "retention_days");
  if (o.count("crisis-text-file")) {
    const std::string& file = o.at("crisis-text-file");
    std::stringstream ss;
    if (file == "-") {
      ss << std::cin.rdbuf();
    } else {
      std::ifstream in(file, std::ios::binary);
      if (!in) return failed(invalid_argument("crisis-text-file", "--crisis-text-file: cannot read " + file));
      ss << in.rdbuf();
    }
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    body["crisis_text"] = text;
  }
  if (o.count("notice-period-minutes")) body["notice_period_minutes"] = std::stoll(o.at("notice-period-minutes"));
  if (o.count("retention-days")) body["retention_days"] = std::stoll(o.at("retention-days"));
  json::value v = body;
  auto r = (*c)->put_json("/v1/messaging/policy", v);
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    print_policy(ctx.out, sub(*r, "policy"));
  }
  return {};
}

Outcome messaging_policy_show(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  auto r = (*c)->get_json("/v1/messaging/policy");
  if (!r) return failed(r.error());
  if (ctx.inv.json) {
    print_json(ctx.out, *r);
  } else {
    print_policy(ctx.out, sub(*r, "policy"));
  }
  return {};
}

Outcome messaging_erasures(Context& ctx) {
  auto c = logged_in_client(ctx);
  if (!c) return failed(c.error());
  return show_list(ctx, (*c)->get_json("/v1/messaging/erasures"), "records", "no erasures",
                   Table({{"AT", 20}, {"KIND", 11}, {"CONVERSATION", 34}, {"MESSAGES", 10}, {"REASON", 0}}),
                   [](const json::value& rec) -> std::vector<std::string> {
                     return {format_ms(sub(rec, "at_unix_ms")), str(rec, "kind"),
                             str(rec, "conversation_id").empty() ? "-" : str(rec, "conversation_id"),
                             std::to_string(int64_of(rec, "messages_affected")), str(rec, "reason")};
                   });
}

// When to hand a push socket opened with `access_token` a fresh one: after three
// quarters of the token's remaining life (at least 1 s from now), so the gateway
// does not close it (4401) when the token expires.
std::chrono::steady_clock::time_point socket_refresh_at(std::string_view access_token) {
  const auto expires_ms = client::access_token_expires_at(access_token) * 1000;
  if (expires_ms <= 0) return std::chrono::steady_clock::time_point::max();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto wait = std::max<std::int64_t>((expires_ms - now_ms) * 3 / 4, 1000);
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(wait);
}

// The gateway's answer to a fresh token sent over the socket ("auth.ok" is not
// shown; "auth.error" goes to `err`); false for any other frame.
bool auth_answer(std::string_view frame, std::ostream& err) {
  boost::system::error_code ec;
  auto v = json::parse(frame, ec);
  if (ec) return false;
  const auto type = str(v, "type");
  if (type == "auth.error") err << "error: the gateway refused the refreshed token: " << str(sub(v, "error"), "message") << "\n";
  return type == "auth.ok" || type == "auth.error";
}

// Opens the user's push socket and prints each JSON frame on its own line until
// --count pushes were shown, --seconds passed, or the server closed the socket. With a
// device registered (and without --json), "message.new" frames are printed
// decrypted instead, and the message cursors move as `message sync` would.
// "reminder.due" frames are shown once per reminder (decoded without --json) and
// acknowledged on the socket (ReminderWatch); repeats and ack answers are not counted.
// Before returning it waits (at most 2 s) for the answers to the acks it sent. The
// socket is handed a fresh access token before the current one expires (the session
// file keeps the refreshed tokens).
Outcome watch(Context& ctx) {
  const auto& o = ctx.inv.options;
  long long count = 0, seconds = 0;
  if (o.count("count")) count = std::stoll(o.at("count"));
  if (o.count("seconds")) seconds = std::stoll(o.at("seconds"));
  std::unique_ptr<AllianceClient> c;
  std::unique_ptr<client::Messenger> messenger;
  if (ctx.session.device && !ctx.inv.json) {
    auto ds = device_session(ctx);
    if (!ds) return failed(ds.error());
    c = std::move(ds->client);
    messenger = std::move(ds->messenger);
  } else {
    auto plain = logged_in_client(ctx);
    if (!plain) return failed(plain.error());
    c = std::move(*plain);
  }
  auto socket = c->open_push_socket();
  if (!socket) return failed(socket.error());
  if (!ctx.inv.json) ctx.err << "watching pushes (Ctrl-C to stop)\n";
  auto until = seconds > 0 ? std::chrono::steady_clock::now() + std::chrono::seconds(seconds)
                           : std::chrono::steady_clock::time_point::max();
  ReminderWatch reminders(ctx.out, ctx.err, ctx.inv.json);
  long long seen = 0;
  std::size_t unanswered = 0;  // acks sent whose answer has not come yet
  auto refresh_at = socket_refresh_at(c->tokens().access_token);
  while ((count == 0 || seen < count) && std::chrono::steady_clock::now() < until) {
    if (std::chrono::steady_clock::now() >= refresh_at) {
      if (auto fresh = c->refresh_push_socket(**socket); !fresh) ctx.err << error_line(fresh.error()) << "\n";
      refresh_at = socket_refresh_at(c->tokens().access_token);
    }
    auto frame = (*socket)->read_text(std::chrono::milliseconds(250));
    if (frame) {
      if (auth_answer(*frame, ctx.err)) continue;
      if (auto handled = reminders.handle(*frame)) {
        ctx.out << std::flush;
        if (!handled->reply.empty()) {
          (*socket)->send_text(handled->reply);
          ++unanswered;
        }
        if (handled->answer && unanswered > 0) --unanswered;
        if (handled->shown) ++seen;
        continue;
      }
      ++seen;
      auto parsed = client::push_frame_from_text(*frame);
      if (!messenger || !parsed || parsed->type != "message.new") {
        ctx.out << *frame << "\n" << std::flush;
        continue;
      }
      auto event = messenger->on_push_text(*frame);
      if (!event) {
        ctx.err << error_line(event.error()) << "\n";
        ctx.out << *frame << "\n" << std::flush;
        continue;
      }
      std::vector<std::string> conversations;
      for (const auto& m : event->messages) {
        const Reader reader{ctx.session.tokens.user_id, ctx.session.device->id};
        ctx.out << message_lines(m, reader, "conversation " + m.conversation_id + " ");
        ctx.session.cursors[m.conversation_id] = messenger->last_seq(m.conversation_id);
        conversations.push_back(m.conversation_id);
      }
      ctx.out << std::flush;
      const bool state_changed = keep_state(ctx, *messenger, conversations);
      if (!event->messages.empty() || state_changed) {
        if (auto st = save(ctx); !st) ctx.err << error_line(st.error()) << "\n";
      }
    } else if ((*socket)->closed()) {
      return failed(Error{Code::kUnavailable,
                          "the server closed the socket (" + std::to_string((*socket)->close_code()) + " " +
                              (*socket)->close_reason() + ")",
                          {}});
    }
  }
  // Leaving right after the last ack would drop the server's answer: a refused ack
  // would go unreported and the reminder taken for acknowledged. Wait up to 2 s more
  // for the answers only.
  const auto answers_until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (unanswered > 0 && !(*socket)->closed() && std::chrono::steady_clock::now() < answers_until) {
    auto frame = (*socket)->read_text(std::chrono::milliseconds(250));
    if (!frame) continue;
    if (auto handled = reminders.handle_answer(*frame); handled && handled->answer) --unanswered;
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

std::string terminal_safe(std::string_view text, std::string_view indent) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') {
      out.push_back('\n');
      out.append(indent);
    } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    } else if (b == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080..U+009F: C1 controls (a terminal may take U+009B as an escape sequence).
      auto c1 = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out.push_back(kHex[c1 >> 4]);
      out.push_back(kHex[c1 & 15]);
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  return out;
}

bool shown(const client::ReceivedMessage& m, const Reader& reader) {
  (void)reader;
  return !m.duplicate || !m.integrity.empty();
}

std::string message_lines(const client::ReceivedMessage& m, const Reader& reader, std::string_view prefix) {
  if (!shown(m, reader)) return {};
  std::string lines;
  if (!m.duplicate) {
    lines += prefix;
    lines += "#" + std::to_string(m.seq) + " " + format_ms(m.sent_unix_ms) + " ";
    std::string who = m.sender_user_id == reader.user_id ? std::string("you") : terminal_safe(m.sender_user_id);
    if (m.is_system()) {
      lines += "[system notice] " + (m.expired ? std::string("[expired]") : terminal_safe(m.system_text));
    } else if (m.expired) {
      lines += who + ": [expired]";
    } else if (!m.error.empty()) {
      lines += who + ": [cannot open: " + terminal_safe(m.error) + "]";
    } else {
      lines += who + ": " + terminal_safe(m.plaintext);
    }
    lines += "\n";
  }
  for (const auto& issue : m.integrity) lines += "    ! " + terminal_safe(issue, "      ") + "\n";
  return lines;
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
  Context ctx{inv, out, err, {}, false};
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
  } else if (c == "user set-time-zone") {
    result = user_set_time_zone(ctx);
  } else if (c == "user deactivate") {
    result = user_deactivate(ctx);
  } else if (c == "user reactivate") {
    result = user_reactivate(ctx);
  } else if (c == "user set-role") {
    result = user_set_role(ctx);
  } else if (c == "user update") {
    result = user_update(ctx);
  } else if (c == "user reset-password") {
    result = user_reset_password(ctx);
  } else if (c == "user reset-two-factor") {
    result = user_reset_two_factor(ctx);
  } else if (c == "two-factor enroll") {
    result = two_factor_enroll(ctx);
  } else if (c == "two-factor confirm") {
    result = two_factor_confirm(ctx);
  } else if (c == "two-factor disable") {
    result = two_factor_disable(ctx);
  } else if (c == "two-factor status") {
    result = two_factor_status(ctx);
  } else if (c == "care-team add") {
    result = care_team_add(ctx);
  } else if (c == "care-team list") {
    result = care_team_list(ctx);
  } else if (c == "device register") {
    result = device_register(ctx);
  } else if (c == "device list") {
    result = device_list(ctx);
  } else if (c == "device revoke") {
    result = device_revoke(ctx);
  } else if (c == "device identity") {
    result = device_identity(ctx);
  } else if (c == "device pending") {
    result = device_pending(ctx);
  } else if (c == "device approve") {
    result = device_approve(ctx);
  } else if (c == "practice trust-key") {
    result = practice_trust_key(ctx);
  } else if (c == "conversation verify") {
    result = conversation_verify(ctx);
  } else if (c == "conversation accept-identity") {
    result = conversation_accept_identity(ctx);
  } else if (c == "conversation open") {
    result = conversation_open(ctx);
  } else if (c == "conversation list") {
    result = conversation_list(ctx);
  } else if (c == "conversation erase") {
    result = conversation_erase(ctx);
  } else if (c == "message send") {
    result = message_send(ctx);
  } else if (c == "message sync") {
    result = message_sync(ctx);
  } else if (c == "message read") {
    result = message_read(ctx);
  } else if (c == "messaging hours set") {
    result = messaging_hours_set(ctx);
  } else if (c == "messaging hours show") {
    result = messaging_hours_show(ctx);
  } else if (c == "messaging policy set") {
    result = messaging_policy_set(ctx);
  } else if (c == "messaging policy show") {
    result = messaging_policy_show(ctx);
  } else if (c == "messaging erasures") {
    result = messaging_erasures(ctx);
  } else if (c == "audit verify") {
    result = audit_verify(ctx);
  } else if (c == "audit prune") {
    result = audit_prune(ctx);
  } else if (c == "access-log") {
    result = access_log(ctx);
  } else if (c == "reminders list") {
    result = reminders_list(ctx);
  } else if (c == "reminders ack") {
    result = reminders_ack(ctx);
  } else if (c == "reminders policy show") {
    result = reminders_policy_show(ctx);
  } else if (c == "reminders policy set") {
    result = reminders_policy_set(ctx);
  } else if (c == "check-ins") {
    result = checkins_list(ctx);
  } else if (c == "check-in submit") {
    result = checkin_submit(ctx);
  } else if (c == "check-in scores") {
    result = checkin_scores(ctx);
  } else if (c == "check-in alerts") {
    result = checkin_alerts(ctx);
  } else if (c == "check-in summary") {
    result = checkin_summary(ctx);
  } else if (c == "check-in policy set") {
    result = checkin_policy_set(ctx);
  } else if (c == "reminders preference") {
    result = reminders_preference(ctx);
  } else if (auto scheduling = scheduling_command(c)) {
    result = scheduling(ctx);
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
