#pragma once
// alliancectl's command line: parsing and usage text, kept apart from any I/O so
// the unit tests can drive it directly.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::ctl {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// One parsed command line. Global options may appear anywhere.
struct Invocation {
  std::string gateway;                 // --gateway, else ALLIANCE_GATEWAY, else "" (then the session's)
  std::string ca;                      // --ca, else ALLIANCE_CA, else "" (then the session's)
  std::filesystem::path session;       // --session, else ALLIANCE_SESSION, else ~/.config/alliance/session.json
  bool json = false;                   // --json: print the server's JSON
  bool help = false;                   // --help / -h / `help`: print usage, exit 0
  std::string command;                 // "practice create", "login", "user list", ...
  std::map<std::string, std::string> options;  // command options without "--": {"email": "a@b.c"}
  // Options that may be given more than once, in order ("window" of `messaging hours set`).
  std::map<std::string, std::vector<std::string>> lists;
  // Arguments after the command's words, in order: `reminders ack ID` -> {"ID"}.
  std::vector<std::string> args;
  // Options that take no value, without "--": `conversation verify --qr` -> {"qr"}.
  std::set<std::string, std::less<>> flags;

  bool flag(std::string_view name) const { return flags.count(name) != 0; }
};

// One --window of `messaging hours set`: "WEEKDAY HH:MM HH:MM", weekday 0 (Sunday)
// to 6 or a three-letter English name ("mon"); the end may be "24:00".
struct WindowArg {
  int weekday = 0;
  std::string start, end;
};
// kInvalidArgument with field "window" saying what is wrong.
Result<WindowArg> parse_window(std::string_view text);

// `reminders policy set` options. --offsets "1440,120" (and each --type's list):
// 1 to 5 distinct whole numbers of minutes, each 5 to 20160 (14 days), the
// practice's rule. kInvalidArgument with field `option` whose message starts with
// "--<option>: ", e.g. "--offsets: 0 is not between 5 and 20160".
Result<std::vector<int>> parse_offsets(std::string_view text, std::string_view option = "offsets");
// --type "TYPE_ID=60,30": offsets for one appointment type (field "type").
struct TypeOffsetsArg {
  std::string type_id;
  std::vector<int> offsets;
};
Result<TypeOffsetsArg> parse_type_offsets(std::string_view text);
// --quiet "21:00-08:00" (HH:MM-HH:MM, on each client's clock; the end may be earlier:
// it spans midnight) or "none" (start and end then ""). Field "quiet".
struct QuietArg {
  std::string start, end;
};
Result<QuietArg> parse_quiet(std::string_view text);

// `args` excludes argv[0]. Errors are usage errors (exit code 2): kInvalidArgument
// whose field names the offending option ("email") or "command".
Result<Invocation> parse_args(const std::vector<std::string>& args, const EnvLookup& env);

// The process environment, for main().
std::optional<std::string> process_env(const std::string& name);

// The full usage text (ends with a newline).
std::string usage();

}  // namespace alliance::ctl
