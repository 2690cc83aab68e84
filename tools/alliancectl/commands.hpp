#pragma once
// Runs one parsed alliancectl command against the gateway's public API.
#include <iosfwd>
#include <string>
#include <string_view>

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

}  // namespace alliance::ctl
