#pragma once
// What every alliancectl command shares (commands.cpp, reminders_commands.cpp):
// its exit code or error, the parsed command line and session, a logged-in
// client, and small readers for the server's JSON. Internal to alliancectl.
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/client/alliance_client.hpp"
#include "alliance/core/result.hpp"
#include "cli.hpp"
#include "session.hpp"
#include "table.hpp"

namespace alliance::ctl {

inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;

// What a command returns: an exit code, or the Error to print.
struct Outcome {
  int code = kOk;
  std::optional<Error> error;
};
inline Outcome failed(Error e, int code = kFailed) { return Outcome{code, std::move(e)}; }

// Everything a command needs to reach the gateway.
struct Context {
  const Invocation& inv;
  std::ostream& out;
  std::ostream& err;
  Session session;
  bool have_session = false;
};

// The gateway from --gateway/ALLIANCE_GATEWAY, else the session's; kInvalidArgument "gateway" if none.
Result<client::Endpoint> endpoint(const Context& ctx);
std::string gateway_text(const Context& ctx);
// A client logged in from the session file, refreshing (and saving) tokens as needed.
// kUnauthenticated "not logged in: run 'alliancectl login' first" without a session's tokens.
Status require_session(const Context& ctx);
Result<std::unique_ptr<client::AllianceClient>> logged_in_client(Context& ctx);

// A password (or code) from --<file_option> (the file's content), else one line of
// stdin, prompted on stderr and not echoed on a terminal; errors name `field`.
Result<std::string> password(const Invocation& inv, const std::string& file_option, const std::string& prompt,
                             const std::string& field);
// Stores a login's (or second step's) TokenResponse in the session file, keeping the
// identity key of the same user, and prints who signed in (and recovery codes, if any).
Outcome save_signed_in(Context& ctx, const client::Endpoint& ep, const boost::json::value& token_response);

void print_json(std::ostream& out, const boost::json::value& v);
// One item of a list answer as the cells of its table row.
using RowCells = std::function<std::vector<std::string>(const boost::json::value&)>;
// The items of `list` as the rows of `table`, or the line `none` ("no devices") when there are none.
void print_rows(std::ostream& out, const boost::json::value& list, std::string_view none, Table table,
                const RowCells& row);
// A list answer: all of it as JSON with --json, else print_rows of its field `list`.
Outcome show_list(Context& ctx, const Result<boost::json::value>& r, std::string_view list, std::string_view none,
                  Table table, const RowCells& row);
// An id as one URL path segment.
std::string path_part(std::string_view id);

// Readers of the server's JSON that never fail: a missing or ill-typed field reads "" / null / 0.
std::string str(const boost::json::value& v, std::string_view key);
const boost::json::value& sub(const boost::json::value& v, std::string_view key);
std::int64_t int64_of(const boost::json::value& v, std::string_view key);  // int64 as a string or a number

// "2026-12-07 14:00Z" for Unix milliseconds (as a number or its JSON); "" for 0 or garbage.
std::string format_ms(std::int64_t ms);
std::string format_ms(const boost::json::value& v);

}  // namespace alliance::ctl
