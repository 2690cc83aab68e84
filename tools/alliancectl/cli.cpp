#include "cli.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

namespace alliance::ctl {
namespace {

// An argument after the command's words (`reminders ack ID`).
struct ArgumentSpec {
  std::string_view field;  // what an error names: "id"
  std::string_view shown;  // how usage shows it: "ID"
  bool required = true;
};

struct CommandSpec {
  std::string_view name;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
  std::vector<std::string_view> repeatable = {};  // may be given more than once (at least once if required)
  std::vector<ArgumentSpec> arguments = {};       // in order; optional ones last
  std::vector<std::string_view> flags = {};       // options that take no value (--qr)
};

constexpr int kMinOffsetMinutes = 5;
constexpr int kMaxOffsetMinutes = 14 * 24 * 60;
constexpr std::size_t kMaxOffsets = 5;
constexpr std::size_t kMaxTypeOverrides = 50;

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"practice create", {"name", "slug", "admin-email", "admin-name", "operator-token-file"}, {"admin-password-file"}},
      {"practice trust-key", {"fingerprint"}, {}, {}, {}, {"replace"}},
      {"login", {"practice", "email"}, {"password-file", "code"}},
      {"logout", {}, {}},
      {"whoami", {}, {}},
      {"watch", {}, {"count", "seconds"}},
      {"user create", {"role", "email", "name"}, {"password-file"}},
      {"user list", {}, {"role"}},
      {"user set-time-zone", {}, {"user"}, {}, {{"zone", "ZONE"}}},
      {"user deactivate", {"user"}, {}},
      {"user reactivate", {"user"}, {}},
      {"user set-role", {"user", "role"}, {}},
      {"user update", {"user"}, {"name", "email"}},
      {"user reset-password", {"user"}, {}},
      {"user reset-two-factor", {"user"}, {}},
      {"two-factor enroll", {}, {}},
      {"two-factor confirm", {"code"}, {}},
      {"two-factor disable", {}, {"code", "password-file"}},
      {"two-factor status", {}, {}},
      {"care-team add", {"client", "therapist"}, {}},
      {"care-team list", {"client"}, {}},
      {"device register", {}, {"name"}},
      {"device list", {}, {}},
      {"device revoke", {"id"}, {}},
      {"device identity", {}, {}},
      {"device pending", {}, {}},
      {"device approve", {"id", "code"}, {}},
      {"conversation open", {"client", "therapist"}, {}},
      {"conversation list", {}, {}},
      {"conversation erase", {"id", "reason"}, {}},
      {"conversation verify", {"id"}, {}, {}, {}, {"mark-verified", "qr"}},
      {"conversation accept-identity", {"id"}, {}, {}, {}, {"unverify"}},
      {"message send", {"conversation"}, {"text", "text-file"}},
      {"message sync", {"conversation"}, {}},
      {"message read", {"conversation", "seq"}, {}},
      {"messaging hours set", {"therapist", "time-zone", "window"}, {"expected-reply-hours"}, {"window"}},
      {"messaging hours show", {"therapist"}, {}},
      {"messaging policy set", {}, {"crisis-text-file", "notice-period-minutes", "retention-days"}},
      {"messaging policy show", {}, {}},
      {"messaging erasures", {}, {}},
      {"reminders list", {}, {"appointment"}},
      {"audit verify", {"database", "public-key"}, {}},
      {"audit prune", {"before", "operator-token-file"}, {}},
      {"access-log", {}, {}},
      {"reminders ack", {}, {}, {}, {{"id", "ID"}}},
      {"reminders policy show", {}, {}},
      {"reminders policy set", {"offsets"}, {"quiet", "show-therapist"}, {"type"}},
      {"reminders preference", {}, {}, {}, {{"setting", "on|off", false}}},
      {"check-ins", {}, {}},
      {"check-in submit", {"id", "relationship", "goals", "approach", "overall"}, {}},
      {"check-in scores", {}, {"client"}},
      {"check-in alerts", {}, {}},
      {"check-in summary", {}, {}},
      {"check-in policy set", {"below", "drop"}, {"admin-summary"}},
      {"types", {}, {}},
      {"availability", {"therapist"}, {}},
      {"blocks list", {"therapist"}, {"from", "to"}},
      {"blocks add", {"therapist", "start", "end"}, {"weekly-until", "reason"}, {}, {}, {"weekly"}},
      {"blocks delete", {"therapist", "id"}, {}},
      {"slots", {"therapist", "type", "from", "to"}, {}},
      {"book", {"therapist", "type", "start"}, {"client", "key", "location", "room", "modality", "video-link"}},
      {"reschedule", {"id", "start"}, {}},
      {"cancel", {"id", "reason"}, {}},
      {"confirm", {"id"}, {}},
      {"no-show", {"id"}, {}},
      {"appointments", {"date"}, {"days", "therapist", "zone"}},
      {"series",
       {"therapist", "type", "start", "count"},
       {"client", "key", "every", "on-conflict", "location", "room", "modality", "video-link"}},
      {"waitlist", {}, {"therapist", "client"}},
      {"clients search", {"query"}, {"limit", "cursor"}},
      {"calendar-feed rotate", {}, {"therapist"}},
      {"locations list", {}, {}},
      {"locations add", {"name", "address"}, {}, {"room"}},
      {"locations edit", {"id"}, {"name", "address"}, {"add-room", "retire-room"}},
      {"practice set-time-zone", {"zone"}, {}},
      {"practice video-link", {}, {"set"}},
  };
  return kCommands;
}

// Options whose value must be a whole number (0 or more).
const std::set<std::string, std::less<>> kNumbers = {"count", "seconds", "seq", "expected-reply-hours",
                                                     "notice-period-minutes", "retention-days", "days", "every",
                                                     "limit"};
const std::set<std::string, std::less<>> kRoles = {"client", "therapist", "front_desk", "admin"};

Error usage_error(std::string field, std::string message) { return invalid_argument(std::move(field), std::move(message)); }

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Whether some command takes `--name` as a flag: it then never takes the next word as its value.
bool is_flag(std::string_view name) {
  return std::any_of(commands().begin(), commands().end(),
                     [&](const CommandSpec& c) { return contains(c.flags, name); });
}

const CommandSpec* find_command(std::string_view name) {
  auto it = std::find_if(commands().begin(), commands().end(), [&](const CommandSpec& c) { return c.name == name; });
  return it == commands().end() ? nullptr : &*it;
}

// "messaging" and "messaging hours" are groups: the first words of longer commands.
bool is_group(std::string_view words) {
  return std::any_of(commands().begin(), commands().end(), [&](const CommandSpec& c) {
    return c.name.size() > words.size() && c.name.compare(0, words.size(), words) == 0 && c.name[words.size()] == ' ';
  });
}

bool whole_number(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool six_digits(std::string_view s) {
  return s.size() == 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "HH:MM" with HH 00..23 (or exactly "24:00" when `end`).
bool clock_time(std::string_view s, bool end) {
  if (s.size() != 5 || s[2] != ':') return false;
  if (end && s == "24:00") return true;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4])) return false;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  return h < 24 && m < 60;
}

// An IANA zone name's shape ("America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC");
// whether the database knows it is the server's to say.
bool zone_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '/' || s.back() == '/') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
           c == '-' || c == '+';
  });
}

// Checks the words after the command against its argument list.
Status check_arguments(const CommandSpec& spec, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < spec.arguments.size(); ++i) {
    const ArgumentSpec& a = spec.arguments[i];
    std::string field(a.field);
    if (i >= args.size()) {
      if (!a.required) return {};
      return usage_error(field, "'" + std::string(spec.name) + "' needs " + std::string(a.shown));
    }
    const std::string& value = args[i];
    if (value.empty()) return usage_error(field, std::string(a.shown) + " must not be empty");
    if (a.field == "setting" && value != "on" && value != "off") {
      return usage_error(field, "'" + std::string(spec.name) + "' takes on or off, not '" + value + "'");
    }
    if (a.field == "zone" && !zone_name(value)) {
      return usage_error(field, "'" + value + "' is not a time-zone name such as Europe/Berlin or America/New_York");
    }
  }
  return {};
}

}  // namespace

Result<std::vector<int>> parse_offsets(std::string_view text, std::string_view option) {
  const std::string field(option);
  const std::string head = "--" + field + ": ";
  std::vector<int> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (part.empty()) return usage_error(field, head + "expected minutes before the start such as 1440,120");
    std::string_view digits = part;
    bool negative = !digits.empty() && digits.front() == '-';
    if (negative) digits.remove_prefix(1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return usage_error(field, head + "'" + std::string(part) + "' is not a whole number of minutes");
    }
    long long minutes = digits.size() > 9 ? kMaxOffsetMinutes + 1LL : std::stoll(std::string(digits));
    if (negative || minutes < kMinOffsetMinutes || minutes > kMaxOffsetMinutes) {
      return usage_error(field, head + std::string(part) + " is not between " + std::to_string(kMinOffsetMinutes) +
                                    " and " + std::to_string(kMaxOffsetMinutes));
    }
    if (std::find(out.begin(), out.end(), minutes) != out.end()) {
      return usage_error(field, head + std::to_string(minutes) + " is given twice");
    }
    out.push_back(static_cast<int>(minutes));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.size() > kMaxOffsets) {
    return usage_error(field, head + "at most " + std::to_string(kMaxOffsets) + " offsets, not " +
                                  std::to_string(out.size()));
  }
  return out;
}

Result<TypeOffsetsArg> parse_type_offsets(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return usage_error("type",
                       "--type: expected TYPE_ID=MINUTES,... such as t1=60,30, not '" + std::string(text) + "'");
  }
  TypeOffsetsArg out;
  out.type_id = std::string(text.substr(0, eq));
  auto offsets = parse_offsets(text.substr(eq + 1), "type");
  if (!offsets) {
    Error e = offsets.error();
    // "--type: 0 is not ..." -> "--type t1: 0 is not ...": say which type.
    e.message.insert(std::string("--type").size(), " " + out.type_id);
    return e;
  }
  out.offsets = std::move(*offsets);
  return out;
}

Result<QuietArg> parse_quiet(std::string_view text) {
  if (text == "none") return QuietArg{};
  const std::string shape = "--quiet: expected HH:MM-HH:MM such as 21:00-08:00, or none";
  if (text.size() != 11 || text[5] != '-') return usage_error("quiet", shape + ", not '" + std::string(text) + "'");
  QuietArg out{std::string(text.substr(0, 5)), std::string(text.substr(6))};
  if (!clock_time(out.start, false) || !clock_time(out.end, false)) {
    return usage_error("quiet", shape + ", not '" + std::string(text) + "'");
  }
  if (out.start == out.end) {
    return usage_error("quiet", "--quiet: start and end must differ (none for no quiet hours)");
  }
  return out;
}

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<WindowArg> parse_window(std::string_view text) {
  std::vector<std::string> parts;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) parts.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) parts.push_back(std::move(word));
  const std::string shape = "--window takes \"WEEKDAY HH:MM HH:MM\", e.g. \"1 09:00 17:00\"";
  if (parts.size() != 3) return usage_error("window", shape);
  static const std::vector<std::string_view> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  WindowArg w;
  std::string day = parts[0];
  std::transform(day.begin(), day.end(), day.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (day.size() == 1 && day[0] >= '0' && day[0] <= '6') {
    w.weekday = day[0] - '0';
  } else if (auto it = std::find(kDays.begin(), kDays.end(), day); it != kDays.end()) {
    w.weekday = static_cast<int>(it - kDays.begin());
  } else {
    return usage_error("window", "--window: weekday must be 0 (Sunday) to 6 or sun..sat, not '" + parts[0] + "'");
  }
  if (!clock_time(parts[1], false)) {
    return usage_error("window", "--window: start must be HH:MM, not '" + parts[1] + "'");
  }
  if (!clock_time(parts[2], true)) return usage_error("window", "--window: end must be HH:MM, not '" + parts[2] + "'");
  if (parts[2] <= parts[1]) {
    return usage_error("window", "--window: end " + parts[2] + " must be after start " + parts[1]);
  }
  w.start = parts[1];
  w.end = parts[2];
  return w;
}

std::string usage() {
  return R"(usage: alliancectl [--gateway https://HOST:PORT] [--ca FILE] [--session FILE] [--json] COMMAND ...

Administers an Alliance practice through the gateway's public API.

commands:
  practice create --name NAME --slug SLUG --admin-email E --admin-name NAME
                  --operator-token-file F [--admin-password-file F]
  login --practice SLUG --email E [--password-file F] [--code CODE]
                                                        store the tokens in the session file; with two-factor
                                                        sign-in on, the code is asked for (or --code). When the
                                                        practice requires enrolment, prints the QR code and
                                                        waits for `two-factor confirm`
  logout                                                end the session, forget the tokens
  whoami                                                show the logged-in user and practice
  watch [--count N] [--seconds S]                       print live pushes for the logged-in user (N: pushes
                                                        shown); each reminder is shown once and acknowledged
  user create --role client|therapist|front_desk|admin --email E --name NAME [--password-file F]
  user list [--role R]
  user set-time-zone [--user USER_ID] ZONE              the IANA zone ("Europe/Berlin") your reminders (or
                                                        that user's) are worded in; default: yourself
  user deactivate --user USER_ID                        admin: the user can no longer sign in; their sessions
                                                        end and sockets close; their history stays
  user reactivate --user USER_ID                        admin: the user may sign in again
  user set-role --user USER_ID --role R                 admin: a new role (their sessions end; the last
                                                        active admin cannot be demoted)
  user update --user USER_ID [--name NAME] [--email E]  admin: a new display name and/or email
  user reset-password --user USER_ID                    admin: prints a one-time reset token (30 minutes) the
                                                        user redeems with a new password; their old password
                                                        and sessions end now
  user reset-two-factor --user USER_ID                  admin: removes the user's second factor (a lost phone);
                                                        recorded, and their sessions end
  two-factor enroll                                     a new authenticator secret: prints its QR code and URI
  two-factor confirm --code CODE                        turns two-factor sign-in on (or finishes a sign-in that
                                                        had to enrol) and prints 10 single-use recovery codes
  two-factor disable [--code CODE | --password-file F]  turns it off (the password is asked for if no --code)
  two-factor status                                     whether it is on, required, and recovery codes left
  care-team add --client USER_ID --therapist USER_ID
  care-team list --client USER_ID

  end-to-end encrypted messaging (keys are made and kept on this machine, in the session file):
  practice trust-key --fingerprint HEX [--replace]      pin the practice key fingerprint your practice gave you
                                                        at intake: archive keys it did not sign are refused;
                                                        --replace: accept the key the server offers now, if it
                                                        has this fingerprint (after the practice changed it)
  device register [--name NAME]                         make this session's device keys and register them, then
                                                        set up your identity key: made here on your first device,
                                                        else this device shows a code and awaits approval
  device identity                                       this device's identity key: picks it up once approved
  device pending                                        your devices awaiting approval
  device approve --id DEVICE_ID --code CODE             on a device you already use: approve a new one, after
                                                        checking CODE is the code the new device shows
  device list                                           your devices (* = this session's)
  device revoke --id DEVICE_ID
  conversation open --client USER_ID --therapist USER_ID   prints the conversation id
  conversation list
  conversation erase --id CONVERSATION_ID --reason TEXT    admin: delete a conversation's content
  conversation verify --id CONVERSATION_ID [--mark-verified] [--qr]
                                                        the safety number of you and the other participant, to
                                                        compare in person; --mark-verified once both match (a
                                                        later change is then an error); --qr: the QR code's text
  conversation accept-identity --id CONVERSATION_ID [--unverify]
                                                        accept the other participant's changed identity key
                                                        (one you had verified: only with --unverify)
  message send --conversation ID (--text-file F | --text - | --text TEXT)   "-" reads stdin
  message sync --conversation ID                        print (decrypted) messages new since the last sync,
                                                        each "! ..." line under one a problem in the history
                                                        (a message missing, replayed or out of order)
  message read --conversation ID --seq N                tell the other participant you read up to N
  messaging hours set --therapist USER_ID --time-zone ZONE --window "WEEKDAY HH:MM HH:MM" [--window ...]
                      [--expected-reply-hours N]        weekday 0 = Sunday .. 6 (or sun..sat)
  messaging hours show --therapist USER_ID
  messaging policy set [--crisis-text-file F] [--notice-period-minutes N] [--retention-days N]
  messaging policy show
  messaging erasures                                    admin: erasure and retention records

  audit log:
  audit verify --database PATH --public-key FILE        offline: re-hash identity's audit.db (read-only) and
                                                        check its signed checkpoints; names the first broken seq
  audit prune --before TIME --operator-token-file F    operator: retention; archive and remove records up to the
                                                        newest signed checkpoint before TIME (2026-06-01T00:00:00Z),
                                                        recorded in the log itself (README "Audit log")
  access-log                                            a client: who (name, role) read or changed your record

  appointment reminders:
  reminders list [--appointment ID]                     your pending reminders; with --appointment: each
                                                        reminder of that appointment, its state and times
  reminders ack ID                                      acknowledge a reminder: it is not pushed again
  reminders policy show
  reminders policy set --offsets MIN,... [--type TYPE_ID=MIN,... ...] [--quiet HH:MM-HH:MM|none]
                       [--show-therapist yes|no]        admin: 1 to 5 offsets, each 5..20160 minutes before
                                                        the start; --type per appointment type (--type none:
                                                        no overrides); quiet hours on each client's clock;
                                                        options left out keep their current value
  reminders preference [on|off]                         show, or turn your own reminders on or off

  session check-ins (ratings 0..10; totals 0..40):
  check-ins                                             a client: your open check-ins
  check-in submit --id ID --relationship N --goals N --approach N --overall N
                                                        a client: answer a check-in (once)
  check-in scores [--client ID]                         a therapist: your clients' answers, newest first
  check-in alerts                                       a therapist: low totals and drops
  check-in summary                                      an admin: answers and average per therapist (only
                                                        when the policy allows it)
  check-in policy set --below N --drop N [--admin-summary yes|no]
                                                        an admin: alert below a total / on a drop of more
                                                        than N from the client's average (0 = off)

  scheduling (times are RFC 3339 such as 2026-12-07T14:00:00Z; tables show the therapist's wall clock):
  types                                                 the practice's appointment types
  availability --therapist ID                           weekly hours, time zone and days off
  blocks list --therapist ID [--from T] [--to T]        time blocks (staff see the reason)
  blocks add --therapist ID --start T --end T [--weekly | --weekly-until YYYY-MM-DD] [--reason R]
                                                        block part of a day; booking over it is refused
  blocks delete --therapist ID --id BLOCK_ID            every occurrence of the block
  slots --therapist ID --type TYPE_ID --from T --to T   open start times (at most 42 days)
  book --therapist ID --type TYPE_ID --start T [--client ID] [--key K] [--location ID] [--room R]
       [--modality in_person|telehealth] [--video-link URL]
                                                        a retry with the same --key books once; where it
                                                        happens defaults to the type's
  reschedule --id ID --start T
  cancel --id ID --reason R
  confirm --id ID
  no-show --id ID
  appointments --date YYYY-MM-DD [--days 1|7] [--therapist ID,...] [--zone ZONE]
                                                        a day or week table: appointments (with staff
                                                        notes) and time blocks, in the view's zone
  series --therapist ID --type TYPE_ID --start T --count N [--client ID] [--every 1|2]
         [--on-conflict skip|reject] [--key K]          weekly at the same local time; takes book's
         [--location ID] [--room R] [--modality M] [--video-link URL]   where-flags for every occurrence
  waitlist [--therapist ID] [--client ID]               who is waiting
  clients search --query Q [--limit N] [--cursor C]     clients by name, surname or email prefix
  calendar-feed rotate [--therapist ID]                 a new private calendar URL (older ones stop)
  locations list                                        the practice's locations and their rooms
  locations add --name N --address A [--room R ...]     admin
  locations edit --id ID [--name N] [--address A] [--add-room R ...] [--retire-room R ...]
                                                        admin; a retired room keeps its past appointments
  practice set-time-zone --zone ZONE|none               admin: the zone the calendar and console show
  practice video-link [--set URL|none]                  admin: the default link of telehealth appointments

options:
  --gateway URL    gateway address (env ALLIANCE_GATEWAY; default: the one logged in to)
  --ca FILE        CA certificate that signed the gateway's certificate (env ALLIANCE_CA)
  --session FILE   session file (env ALLIANCE_SESSION; default ~/.config/alliance/session.json)
  --json           print the server's JSON instead of text
  -h, --help       show this text

Passwords are never taken on the command line: give a file (--password-file) or
type them on stdin (not echoed on a terminal). Message text given with --text is
visible to other users of this machine (ps, shell history): prefer --text-file or stdin.
Exit codes: 0 success, 1 the request failed, 2 usage error.
)";
}

Result<Invocation> parse_args(const std::vector<std::string>& args, const EnvLookup& env) {
  Invocation inv;
  std::optional<std::string> gateway, ca, session;
  std::vector<std::string> words;
  std::map<std::string, std::vector<std::string>> given;  // every value of each command option, in order
  std::set<std::string, std::less<>> flags;

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
    if (is_flag(name)) {
      flags.insert(name);
      continue;
    }
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) {
      value = args[++i];
    }
    if (!value) return usage_error(name, "--" + name + " needs a value");
    if (is_flag(name)) return usage_error(name, "--" + name + " takes no value");
    if (name == "gateway") {
      gateway = *value;
    } else if (name == "ca") {
      ca = *value;
    } else if (name == "session") {
      session = *value;
    } else {
      given[name].push_back(*value);
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
  while (find_command(command) == nullptr && is_group(command)) {
    if (words.size() <= used) return usage_error("command", "'" + command + "' needs a subcommand");
    command += " " + words[used++];
  }
  const CommandSpec* spec = find_command(command);
  if (spec == nullptr) return usage_error("command", "unknown command '" + command + "'");
  if (words.size() > used + spec->arguments.size()) {
    return usage_error("command", "unexpected argument '" + words[used + spec->arguments.size()] + "'");
  }
  inv.command = command;
  inv.args.assign(words.begin() + static_cast<std::ptrdiff_t>(used), words.end());
  if (inv.help) return inv;  // `alliancectl user create --help`: no further checks

  for (const auto& name : flags) {
    if (!contains(spec->flags, name)) return usage_error(name, "unknown option --" + name + " for '" + command + "'");
  }
  std::map<std::string, std::string> options;
  std::map<std::string, std::vector<std::string>> lists;
  for (const auto& [name, values] : given) {
    if (!contains(spec->required, name) && !contains(spec->optional, name) && !contains(spec->repeatable, name)) {
      return usage_error(name, "unknown option --" + name + " for '" + command + "'");
    }
    bool repeatable = contains(spec->repeatable, name);
    if (!repeatable && values.size() > 1) return usage_error(name, "--" + name + " given twice");
    for (const auto& value : values) {
      if (value.empty()) return usage_error(name, "--" + name + " must not be empty");
      if (kNumbers.count(name) != 0 && !whole_number(value)) {
        return usage_error(name, "--" + name + " must be a whole number, not '" + value + "'");
      }
    }
    if (repeatable) {
      lists[name] = values;
    } else {
      options[name] = values.front();
    }
  }
  for (auto name : spec->required) {
    if (options.count(std::string(name)) == 0 && lists.count(std::string(name)) == 0) {
      return usage_error(std::string(name), "--" + std::string(name) + " is required for '" + command + "'");
    }
  }
  if (auto st = check_arguments(*spec, inv.args); !st) return st.error();
  if (auto role = options.find("role"); role != options.end() && kRoles.count(role->second) == 0) {
    return usage_error("role", "--role must be one of client, therapist, front_desk, admin");
  }
  if (auto windows = lists.find("window"); windows != lists.end()) {
    for (const auto& w : windows->second) {
      if (auto parsed = parse_window(w); !parsed) return parsed.error();
    }
  }
  if (auto offsets = options.find("offsets"); offsets != options.end()) {
    if (auto parsed = parse_offsets(offsets->second); !parsed) return parsed.error();
  }
  if (auto types = lists.find("type"); types != lists.end()) {
    const auto& values = types->second;
    bool none = std::find(values.begin(), values.end(), "none") != values.end();
    if (none && values.size() > 1) return usage_error("type", "--type none clears the overrides: give it alone");
    if (values.size() > kMaxTypeOverrides) {
      return usage_error("type", "--type: at most " + std::to_string(kMaxTypeOverrides) + " appointment types");
    }
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; !none && i < values.size(); ++i) {
      auto parsed = parse_type_offsets(values[i]);
      if (!parsed) return parsed.error();
      if (!seen.insert(parsed->type_id).second) {
        return usage_error("type", "--type: " + parsed->type_id + " is given twice");
      }
    }
  }
  if (auto quiet = options.find("quiet"); quiet != options.end()) {
    if (auto parsed = parse_quiet(quiet->second); !parsed) return parsed.error();
  }
  if (auto show = options.find("show-therapist"); show != options.end() && show->second != "yes" &&
                                                  show->second != "no") {
    return usage_error("show-therapist", "--show-therapist takes yes or no, not '" + show->second + "'");
  }
  if (auto code = options.find("code");
      command == "device approve" && code != options.end() && !six_digits(code->second)) {
    return usage_error("code", "--code takes the 6 digits the new device shows, not '" + code->second + "'");
  }
  if (command == "message send" && options.count("text") + options.count("text-file") != 1) {
    return usage_error("text", "give exactly one of --text-file FILE, --text - (stdin) or --text TEXT");
  }
  if (command == "messaging policy set" && options.empty()) {
    return usage_error("command",
                       "give at least one of --crisis-text-file, --notice-period-minutes, --retention-days");
  }
  inv.options = std::move(options);
  inv.lists = std::move(lists);
  inv.flags = std::move(flags);
  return inv;
}

}  // namespace alliance::ctl
