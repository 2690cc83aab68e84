#pragma once
// Runs one parsed alliancectl command against the gateway's public API.
#include <iosfwd>
#include <string>
#include <string_view>

#include "alliance/client/messenger.hpp"
#include "cli.hpp"

namespace alliance::ctl {

// Prints results to `out` and one "error: <message> (field: <field>)" line to
// `err`; returns the exit code (0 ok, 1 failed, 2 usage). Passwords come from
// the --*-password-file options or from stdin (not echoed on a terminal).
int run(const Invocation& inv, std::ostream& out, std::ostream& err);

// "error: <message> (field: <field>)" without the newline.
std::string error_line(const Error& e);

// Text written by someone else (a message, a notice) made safe to print on a
// terminal: control characters (C0 but tab and newline, DEL, C1) become visible
// escapes such as "\x1b", and each newline is followed by `indent`.
std::string terminal_safe(std::string_view text, std::string_view indent = "    ");

// Who reads: the session's user and device.
struct Reader {
  std::string_view user_id, device_id;
};

// Whether `message sync` and `watch` show `m` at all: not a duplicate (a message the
// SDK has seen before under its id), unless the duplicate carries integrity lines
// (a replay: the lines are shown). This device's own messages come back readable.
bool shown(const client::ReceivedMessage& m, const Reader& reader);

// A message as `message sync` and `watch` print it: "<prefix>#SEQ TIME WHO: TEXT" (WHO
// is "you" for the reader's user), then one "    ! <line>" per integrity line the SDK
// found on it (a message missing before it, a replay, ...), each line ending in "\n".
// "" when not shown(); only the "! " lines for a replayed duplicate. Text from others
// is made terminal-safe.
std::string message_lines(const client::ReceivedMessage& m, const Reader& reader, std::string_view prefix = "");

}  // namespace alliance::ctl
