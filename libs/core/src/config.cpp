#include "alliance/core/config.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace alliance {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool valid_key(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_' || c == '.'))
      return false;
  return true;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Config Config::from_text(std::string_view service, std::string_view text,
                         std::map<std::string, std::string> flags, EnvLookup env) {
  Config c;
  c.service_ = std::string(service);
  c.env_ = env ? std::move(env) : EnvLookup([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    auto t = trim(line);
    if (t.empty()) continue;
    auto eq = t.find('=');
    std::string origin = std::string(service) + ".conf:" + std::to_string(n);
    if (eq == std::string::npos)
      throw ConfigError("", "config: " + origin + ": expected `key = value`");
    auto key = trim(std::string_view(t).substr(0, eq));
    if (!valid_key(key))
      throw ConfigError(key, "config: " + origin + ": \"" + key +
                                 "\" is not a valid key (lower case, digits, '_', '.')");
    if (c.file_.count(key))
      throw ConfigError(key, "config: key \"" + key + "\" is set twice (" + origin + ")");
    c.file_[key] = Entry{trim(std::string_view(t).substr(eq + 1)), origin};
  }
  for (auto& [k, v] : flags) c.flags_[k] = Entry{v, "--" + k};
  return c;
}

Config Config::load(std::string_view service, int argc, const char* const* argv) {
  std::map<std::string, std::string> flags;
  std::optional<std::string> config_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, 2) != "--" || a.size() == 2)
      throw ConfigError("", "config: unexpected argument \"" + std::string(a) +
                                "\" (flags are --key value or --key=value)");
    a.remove_prefix(2);
    std::string key, value;
    if (auto eq = a.find('='); eq != std::string_view::npos) {
      key = std::string(a.substr(0, eq));
      value = std::string(a.substr(eq + 1));
    } else {
      key = std::string(a);
      if (i + 1 >= argc) throw ConfigError(key, "config: flag --" + key + " needs a value");
      value = argv[++i];
    }
    for (auto& ch : key)
      if (ch == '-') ch = '_';
    if (key == "config") config_path = value;
    else flags[key] = value;
  }
  std::string text;
  std::filesystem::path base = std::filesystem::current_path();
  if (!config_path) {
    if (const char* env = std::getenv(("ALLIANCE_" + [&] {
          std::string s(service);
          for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          return s;
        }() + "_CONFIG").c_str()))
      config_path = env;
  }
  if (config_path) {
    std::ifstream f(*config_path);
    if (!f) throw ConfigError("config", "config: cannot read config file \"" + *config_path + "\"");
    std::ostringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    base = std::filesystem::absolute(*config_path).parent_path();
  }
  Config c = from_text(service, text, std::move(flags));
  c.base_dir_ = base;
  return c;
}

std::string Config::env_name(std::string_view key) const {
  std::string s = "ALLIANCE_" + service_ + "_" + std::string(key);
  for (auto& ch : s) {
    if (ch == '.' || ch == '-') ch = '_';
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return s;
}

std::optional<Config::Entry> Config::find(std::string_view key) const {
  asked_.insert(std::string(key));
  if (auto it = flags_.find(key); it != flags_.end()) return it->second;
  auto env = env_name(key);
  if (auto v = env_(env)) return Entry{*v, env};
  if (auto it = file_.find(key); it != file_.end()) return it->second;
  return std::nullopt;
}

void Config::fail(std::string_view key, const Entry* e, std::string_view why) const {
  std::string msg = "config: key \"" + std::string(key) + "\"";
  if (e) msg += " (from " + e->origin + ")";
  msg += ": " + std::string(why);
  if (!e) msg += " (set it in the config file or " + env_name(key) + ")";
  throw ConfigError(std::string(key), msg);
}

std::string Config::string(std::string_view key) const {
  auto e = find(key);
  if (!e || e->value.empty()) fail(key, e ? &*e : nullptr, "is required");
  return e->value;
}

std::string Config::string(std::string_view key, std::string_view fallback) const {
  auto e = find(key);
  return e ? e->value : std::string(fallback);
}

std::int64_t Config::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                             std::int64_t max) const {
  auto e = find(key);
  if (!e) return fallback;
  auto v = parse_int(e->value);
  if (!v) fail(key, &*e, "expected a whole number, got \"" + e->value + "\"");
  if (*v < min || *v > max)
    fail(key, &*e, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", got " + e->value);
  return *v;
}

bool Config::boolean(std::string_view key, bool fallback) const {
  auto e = find(key);
  if (!e) return fallback;
  if (e->value == "true" || e->value == "yes" || e->value == "1") return true;
  if (e->value == "false" || e->value == "no" || e->value == "0") return false;
  fail(key, &*e, "expected true or false, got \"" + e->value + "\"");
}

std::chrono::milliseconds Config::duration(std::string_view key,
                                           std::chrono::milliseconds fallback) const {
  auto e = find(key);
  if (!e) return fallback;
  std::string_view s = e->value;
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  auto n = parse_int(s.substr(0, digits));
  auto unit = s.substr(digits);
  std::int64_t mult = 0;
  if (unit == "ms") mult = 1;
  else if (unit == "s" || unit.empty()) mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  if (!n || mult == 0 || *n > 365LL * 86'400'000 / mult)
    fail(key, &*e, "expected a duration such as 250ms, 30s, 15m, 2h or 7d, got \"" + e->value + "\"");
  return std::chrono::milliseconds(*n * mult);
}

HostPort Config::host_port(std::string_view key) const {
  auto e = find(key);
  if (!e) fail(key, nullptr, "is required");
  auto colon = e->value.rfind(':');
  if (colon == std::string::npos || colon == 0)
    fail(key, &*e, "expected host:port, got \"" + e->value + "\"");
  auto port = parse_int(std::string_view(e->value).substr(colon + 1));
  if (!port || *port < 0 || *port > 65535)
    fail(key, &*e, "port must be 0..65535, got \"" + e->value + "\"");
  return HostPort{e->value.substr(0, colon), static_cast<std::uint16_t>(*port)};
}

HostPort Config::host_port(std::string_view key, std::string_view fallback) const {
  if (!find(key)) {
    Config tmp = from_text(service_, "", {{std::string(key), std::string(fallback)}}, env_);
    return tmp.host_port(key);
  }
  return host_port(key);
}

namespace {

// A socket address holds a path of at most 107 bytes (sun_path is 108, NUL included).
constexpr std::size_t kMaxUnixPath = 107;

// Why `path` cannot name a Unix-domain socket, or "".
std::string unix_path_problem(const std::string& path) {
  if (path.empty() || path.front() != '/') return "expected an absolute path";
  if (path.size() > kMaxUnixPath)
    return "a socket path may be at most " + std::to_string(kMaxUnixPath) + " bytes long, this one is " +
           std::to_string(path.size());
  return {};
}

}  // namespace

RpcAddress Config::rpc_address(std::string_view key, std::string_view fallback) const {
  constexpr std::string_view kUnix = "unix:";
  auto e = find(key);
  std::string_view value = e ? std::string_view(e->value) : fallback;
  if (value.substr(0, kUnix.size()) != kUnix) {
    HostPort at = host_port(key, fallback);
    return RpcAddress{std::move(at.host), at.port, {}};
  }
  std::string path(value.substr(kUnix.size()));
  Entry d{std::string(fallback), "default"};
  if (auto problem = unix_path_problem(path); !problem.empty())
    fail(key, e ? &*e : &d, "unix:PATH: " + problem + ", got \"" + std::string(value) + "\"");
  return RpcAddress{{}, 0, std::move(path)};
}

std::string Config::unix_socket_path(std::string_view key) const {
  auto e = find(key);
  if (!e) return {};
  if (auto problem = unix_path_problem(e->value); !problem.empty())
    fail(key, &*e, problem + ", got \"" + e->value + "\"");
  auto folder = std::filesystem::path(e->value).parent_path();
  if (!std::filesystem::is_directory(folder))
    fail(key, &*e, "folder \"" + folder.string() + "\" does not exist");
  return e->value;
}

std::filesystem::path Config::file(std::string_view key) const {
  auto e = find(key);
  if (!e || e->value.empty()) fail(key, nullptr, "is required (a file path)");
  std::filesystem::path p = e->value;
  if (p.is_relative()) p = base_dir_.empty() ? p : base_dir_ / p;
  if (!std::filesystem::is_regular_file(p) || ::access(p.c_str(), R_OK) != 0)
    fail(key, &*e, "file \"" + p.string() + "\" does not exist or is not readable");
  return p;
}

std::filesystem::path Config::file(std::string_view key, std::string_view fallback) const {
  if (!find(key)) {
    std::filesystem::path p = fallback;
    if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
    Entry e{std::string(fallback), "default"};
    if (!std::filesystem::is_regular_file(p)) fail(key, &e, "file \"" + p.string() + "\" does not exist");
    return p;
  }
  return file(key);
}

std::filesystem::path Config::output_path(std::string_view key, std::string_view fallback) const {
  auto e = find(key);
  if (!e && fallback.empty()) return {};  // optional output, not configured
  Entry d{std::string(fallback), "default"};
  const Entry& use = e ? *e : d;
  std::filesystem::path p = use.value;
  if (p.empty()) fail(key, &use, "must not be empty");
  if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
  auto parent = p.parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    fail(key, &use, "folder \"" + parent.string() + "\" does not exist");
  return p;
}

std::set<std::string, std::less<>> Config::list(std::string_view key, std::string_view fallback) const {
  auto e = find(key);
  std::string_view text = e ? std::string_view(e->value) : fallback;
  std::set<std::string, std::less<>> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.insert(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) {
    Entry d{std::string(fallback), "default"};
    fail(key, e ? &*e : &d, "list at least one item");
  }
  return out;
}

log::Level Config::log_level(std::string_view key, std::string_view fallback) const {
  auto e = find(key);
  Entry d{std::string(fallback), "default"};
  const Entry& use = e ? *e : d;
  try {
    return log::parse_level(use.value);
  } catch (const std::exception&) {
    fail(key, &use, "expected debug, info, warn or error, got \"" + use.value + "\"");
  }
}

void Config::reject_unknown() const {
  for (auto* m : {&flags_, &file_})
    for (auto& [k, e] : *m)
      if (!asked_.count(k))
        throw ConfigError(k, "config: unknown key \"" + k + "\" (from " + e.origin + ")");
}

}  // namespace alliance
