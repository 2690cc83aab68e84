#include "options.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>

namespace alliance::loadgen {
namespace {

bool is_loopback_v4(const std::string& ip, std::uint32_t* host_order = nullptr) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return false;
  std::uint32_t v = ntohl(a.s_addr);
  if (host_order) *host_order = v;
  return (v >> 24) == 127;
}

std::string v4_string(std::uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

// "https://127.0.0.1:8443" or "https://[::1]:8443", optionally with a trailing "/".
Result<Target> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  auto bad = [&](std::string why) { return invalid_argument("url", "--url: " + why); };
  if (url.substr(0, kScheme.size()) != kScheme) return bad("must start with https://");
  url.remove_prefix(kScheme.size());
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  std::string host;
  std::string_view port_text;
  if (!url.empty() && url.front() == '[') {
    auto close = url.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    host = std::string(url.substr(1, close - 1));
    url.remove_prefix(close + 1);
    if (url.empty() || url.front() != ':') return bad("needs an explicit :port");
    port_text = url.substr(1);
  } else {
    auto colon = url.find(':');
    if (colon == std::string_view::npos) return bad("needs an explicit :port");
    host = std::string(url.substr(0, colon));
    port_text = url.substr(colon + 1);
  }
  in6_addr a6{};
  bool loopback = is_loopback_v4(host) || (inet_pton(AF_INET6, host.c_str(), &a6) == 1 && host == "::1");
  if (!loopback) return bad("the host must be a loopback IP address (127.0.0.0/8 or ::1): this tool is loopback only");
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return bad("bad port '" + std::string(port_text) + "'");
  return Target{host, static_cast<std::uint16_t>(port), {}};
}

// "--name value" pairs; every option takes exactly one value.
Result<std::map<std::string, std::string>> split_pairs(const std::vector<std::string>& args,
                                                       std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.rfind("--", 0) != 0) return invalid_argument("", "unexpected argument '" + a + "'");
    std::string name = a.substr(2);
    bool ok = false;
    for (auto k : known) ok = ok || k == name;
    if (!ok) return invalid_argument(name, "unknown option --" + name);
    if (i + 1 >= args.size()) return invalid_argument(name, "--" + name + " needs a value");
    out[name] = args[++i];
  }
  return out;
}

Result<double> number(const std::map<std::string, std::string>& kv, const std::string& name, double fallback,
                      double lo, double hi) {
  auto it = kv.find(name);
  if (it == kv.end()) return fallback;
  const auto& s = it->second;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    return invalid_argument(name, "--" + name + ": not a number: '" + s + "'");
  if (v < lo || v > hi)
    return invalid_argument(name, "--" + name + ": must be between " + std::to_string(lo) + " and " +
                                      std::to_string(hi));
  return v;
}

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(std::llround(s * 1000)); }

constexpr double kMaxSeconds = std::chrono::duration<double>(kMaxDuration).count();

// The options both modes share.
struct Common {
  Target target;
  std::string token;
  std::vector<std::string> tokens;  // from --token-file
  std::vector<std::string> source_ips;
};

Result<Common> parse_common(const std::map<std::string, std::string>& kv) {
  Common c;
  auto url = kv.find("url");
  if (url == kv.end()) return invalid_argument("url", "--url is required");
  auto target = parse_url(url->second);
  if (!target) return target.error();
  c.target = std::move(*target);
  auto ca = kv.find("ca");
  if (ca == kv.end()) return invalid_argument("ca", "--ca is required (the gateway's CA certificate)");
  c.target.ca_file = ca->second;
  if (auto it = kv.find("token"); it != kv.end()) c.token = it->second;
  if (auto it = kv.find("token-file"); it != kv.end()) {
    // Keeps the token out of the process list. In ws mode every line is a token.
    std::ifstream in(it->second);
    if (!in) return invalid_argument("token-file", "--token-file: cannot read '" + it->second + "'");
    for (std::string line; std::getline(in, line) && c.tokens.size() <= kMaxConnections;)
      if (!line.empty()) c.tokens.push_back(line);
    if (c.tokens.empty()) return invalid_argument("token-file", "--token-file: '" + it->second + "' is empty");
  }
  if (auto it = kv.find("source-ips"); it != kv.end()) {
    auto ips = parse_source_ips(it->second);
    if (!ips) return ips.error();
    c.source_ips = std::move(*ips);
    if (c.target.host.find(':') != std::string::npos)
      return invalid_argument("source-ips", "--source-ips: IPv4 sources need an IPv4 --url");
  }
  return c;
}

}  // namespace

Result<std::vector<std::string>> parse_source_ips(const std::string& spec) {
  constexpr std::size_t kMaxSources = 256;
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto comma = spec.find(',', start);
    std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto dash = part.find('-');
    std::uint32_t lo = 0, hi = 0;
    std::string a = part.substr(0, dash);
    std::string b = dash == std::string::npos ? a : part.substr(dash + 1);
    if (!is_loopback_v4(a, &lo) || !is_loopback_v4(b, &hi) || hi < lo)
      return invalid_argument("source-ips", "--source-ips: '" + part +
                                                "' is not a loopback IPv4 address or ascending range");
    if (hi - lo + out.size() >= kMaxSources)
      return invalid_argument("source-ips", "--source-ips: at most 256 addresses");
    for (std::uint32_t v = lo; v <= hi; ++v) out.push_back(v4_string(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<HttpLoadOptions> parse_http_options(const std::vector<std::string>& args) {
  auto kv = split_pairs(args, {"url", "ca", "token", "token-file", "path", "connections", "threads", "duration", "warmup",
                               "rate", "timeout", "source-ips"});
  if (!kv) return kv.error();
  auto common = parse_common(*kv);
  if (!common) return common.error();
  HttpLoadOptions o;
  o.target = std::move(common->target);
  o.token = std::move(common->token);
  if (o.token.empty() && !common->tokens.empty()) o.token = common->tokens.front();
  if (o.token.empty()) return invalid_argument("token", "--token or --token-file is required");
  o.source_ips = std::move(common->source_ips);
  if (auto it = kv->find("path"); it != kv->end()) o.path = it->second;
  if (o.path.empty() || o.path.front() != '/') return invalid_argument("path", "--path must start with /");
  auto connections = number(*kv, "connections", o.connections, 1, kMaxConnections);
  auto threads = number(*kv, "threads", o.threads, 1, kMaxThreads);
  auto duration = number(*kv, "duration", 10, 0.1, kMaxSeconds);
  auto warmup = number(*kv, "warmup", 1, 0, 60);
  auto rate = number(*kv, "rate", 0, 0, 10'000'000);
  auto timeout = number(*kv, "timeout", 5, 0.01, 60);
  for (auto* r : {&connections, &threads, &duration, &warmup, &rate, &timeout})
    if (!*r) return r->error();
  o.connections = static_cast<int>(*connections);
  o.threads = std::min(static_cast<int>(*threads), o.connections);
  o.duration = seconds(*duration);
  o.warmup = seconds(*warmup);
  o.rate = *rate;
  o.timeout = seconds(*timeout);
  return o;
}

Result<WsLoadOptions> parse_ws_options(const std::vector<std::string>& args) {
  auto kv = split_pairs(args, {"url", "ca", "token", "token-file", "path", "connections", "threads",
                               "concurrency", "hold", "timeout", "connect-budget", "source-ips", "ready-file"});
  if (!kv) return kv.error();
  auto common = parse_common(*kv);
  if (!common) return common.error();
  WsLoadOptions o;
  o.target = std::move(common->target);
  o.source_ips = std::move(common->source_ips);
  o.tokens = std::move(common->tokens);
  if (!common->token.empty()) o.tokens.push_back(std::move(common->token));
  if (o.tokens.empty()) return invalid_argument("token", "--token or --token-file is required");
  if (auto it = kv->find("path"); it != kv->end()) o.path = it->second;
  if (o.path.empty() || o.path.front() != '/') return invalid_argument("path", "--path must start with /");
  if (auto it = kv->find("ready-file"); it != kv->end()) o.ready_file = it->second;
  auto connections = number(*kv, "connections", o.connections, 1, kMaxConnections);
  auto threads = number(*kv, "threads", o.threads, 1, kMaxThreads);
  auto concurrency = number(*kv, "concurrency", o.concurrency, 1, 10000);
  auto hold = number(*kv, "hold", 0, 0, kMaxSeconds);
  auto timeout = number(*kv, "timeout", 10, 0.01, 120);
  auto budget = number(*kv, "connect-budget", 180, 1, kMaxSeconds);
  for (auto* r : {&connections, &threads, &concurrency, &hold, &timeout, &budget})
    if (!*r) return r->error();
  o.connections = static_cast<int>(*connections);
  o.threads = std::min(static_cast<int>(*threads), o.connections);
  o.concurrency = static_cast<int>(*concurrency);
  o.hold = seconds(*hold);
  o.timeout = seconds(*timeout);
  o.connect_budget = seconds(*budget);
  return o;
}

std::string usage() {
  return R"(usage:
  alliance-loadgen http --url https://127.0.0.1:PORT --ca CA.pem (--token TOKEN | --token-file FILE)
                        [--path /v1/me] [--connections 32] [--threads 1] [--duration 10]
                        [--warmup 1] [--rate R] [--timeout 5] [--source-ips 127.0.0.1-127.0.0.20]
      Keep-alive HTTPS GETs with "Authorization: Bearer TOKEN". Without --rate: closed
      loop (each connection sends its next request when the last one is answered).
      With --rate R (requests/s over all connections): open loop, every request has an
      intended send time and its latency is measured from that time, so a stalled server
      is not hidden (no coordinated omission). Times are in seconds.
  alliance-loadgen ws --url https://127.0.0.1:PORT --ca CA.pem (--token TOKEN | --token-file FILE)
                      [--path /v1/ws] [--connections 1000] [--threads 1] [--concurrency 64]
                      [--hold 0] [--timeout 10] [--connect-budget 180]
                      [--source-ips 127.0.0.1-127.0.0.20] [--ready-file PATH]
      Opens N WebSockets (token in the Authorization header, round-robin over the
      tokens), waits for each one's session.ready frame, writes --ready-file, then holds
      them open for --hold seconds with a read pending (so pings are answered).
--token-file keeps tokens out of the process list (http mode uses its first line).
Loopback only. The last line of output is "RESULT ..." with key=value pairs.
)";
}

}  // namespace alliance::loadgen
