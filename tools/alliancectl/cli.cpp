#include "cli.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace alliance::ctl {
namespace {

struct CommandSpec {
  std::string_view name;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"practice create", {"name", "slug", "admin-email", "admin-name", "operator-token-file"}, {"admin-password-file"}},
      {"login", {"practice", "email"}, {"password-file"}},
      {"logout", {}, {}},
      {"whoami", {}, {}},
      {"watch", {}, {"count", "seconds"}},
      {"user create", {"role", "email", "name"}, {"password-file"}},
      {"user list", {}, {"role"}},
      {"care-team add", {"client", "therapist"}, {}},
      {"care-team list", {"client"}, {}},
  };
  return kCommands;
}

const std::set<std::string, std::less<>> kGroups = {"practice", "user", "care-team"};
const std::set<std::string, std::less<>> kRoles = {"client", "therapist", "front_desk", "admin"};

Error usage_error(std::string field, std::string message) { return invalid_argument(std::move(field), std::move(message)); }

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string usage() {
  return R"(usage: alliancectl [--gateway https://HOST:PORT] [--ca FILE] [--session FILE] [--json] COMMAND ...

Administers an Alliance practice through the gateway's public API.

commands:
  practice create --name NAME --slug SLUG --admin-email E --admin-name NAME
                  --operator-token-file F [--admin-password-file F]
  login --practice SLUG --email E [--password-file F]   store the tokens in the session file
  logout                                                end the session, forget the tokens
  whoami                                                show the logged-in user and practice
  watch [--count N] [--seconds S]                       print live pushes for the logged-in user
  user create --role client|therapist|front_desk|admin --email E --name NAME [--password-file F]
  user list [--role R]
  care-team add --client USER_ID --therapist USER_ID
  care-team list --client USER_ID

options:
  --gateway URL    gateway address (env ALLIANCE_GATEWAY; default: the one logged in to)
  --ca FILE        CA certificate that signed the gateway's certificate (env ALLIANCE_CA)
  --session FILE   session file (env ALLIANCE_SESSION; default ~/.config/alliance/session.json)
  --json           print the server's JSON instead of text
  -h, --help       show this text

Passwords are never taken on the command line: give a file (--password-file) or
type them on stdin (not echoed on a terminal).
Exit codes: 0 success, 1 the request failed, 2 usage error.
)";
}

Result<Invocation> parse_args(const std::vector<std::string>& args, const EnvLookup& env) {
  Invocation inv;
  std::optional<std::string> gateway, ca, session;
  std::vector<std::string> words;
  std::map<std::string, std::string> options;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      inv.help = true;
      continue;
    }
    if (arg == "--json") {
      inv.json = true;
      continue;
    }
    if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0) {
      if (!arg.empty() && arg.front() == '-') return usage_error(arg, "unknown option " + arg);
      words.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) {
      value = args[++i];
    }
    if (!value) return usage_error(name, "--" + name + " needs a value");
    if (name == "gateway") {
      gateway = *value;
    } else if (name == "ca") {
      ca = *value;
    } else if (name == "session") {
      session = *value;
    } else {
      if (options.count(name) != 0) return usage_error(name, "--" + name + " given twice");
      options[name] = *value;
    }
  }

  auto from_env = [&](const char* key) -> std::optional<std::string> {
    if (!env) return std::nullopt;
    auto v = env(key);
    if (v && v->empty()) return std::nullopt;
    return v;
  };
  inv.gateway = gateway ? *gateway : from_env("ALLIANCE_GATEWAY").value_or("");
  inv.ca = ca ? *ca : from_env("ALLIANCE_CA").value_or("");
  if (session) {
    if (session->empty()) return usage_error("session", "--session must not be empty");
    inv.session = *session;
  } else if (auto s = from_env("ALLIANCE_SESSION")) {
    inv.session = *s;
  } else if (auto home = from_env("HOME")) {
    inv.session = std::filesystem::path(*home) / ".config" / "alliance" / "session.json";
  }

  if (!words.empty() && words.front() == "help") {
    inv.help = true;
    words.erase(words.begin());
  }
  if (words.empty()) {
    if (inv.help) return inv;
    return usage_error("command", "no command given");
  }
  std::string command = words[0];
  std::size_t used = 1;
  if (kGroups.count(words[0]) != 0) {
    if (words.size() < 2) return usage_error("command", "'" + words[0] + "' needs a subcommand");
    command += " " + words[1];
    used = 2;
  }
  auto spec = std::find_if(commands().begin(), commands().end(),
                           [&](const CommandSpec& c) { return c.name == command; });
  if (spec == commands().end()) return usage_error("command", "unknown command '" + command + "'");
  if (words.size() > used) return usage_error("command", "unexpected argument '" + words[used] + "'");
  inv.command = command;
  if (inv.help) return inv;  // `alliancectl user create --help`: no further checks

  for (const auto& [name, value] : options) {
    if (!contains(spec->required, name) && !contains(spec->optional, name)) {
      return usage_error(name, "unknown option --" + name + " for '" + command + "'");
    }
    if (value.empty()) return usage_error(name, "--" + name + " must not be empty");
  }
  for (auto name : spec->required) {
    if (options.count(std::string(name)) == 0) {
      return usage_error(std::string(name), "--" + std::string(name) + " is required for '" + command + "'");
    }
  }
  if (auto role = options.find("role"); role != options.end() && kRoles.count(role->second) == 0) {
    return usage_error("role", "--role must be one of client, therapist, front_desk, admin");
  }
  inv.options = std::move(options);
  return inv;
}

}  // namespace alliance::ctl
