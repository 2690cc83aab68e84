#pragma once
// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.
// For text handed to writers that assume valid UTF-8 (libical folds lines by it).
#include <cstddef>
#include <string>
#include <string_view>

namespace alliance {

// The length of the well-formed sequence at the start of `text`, or 0 if it does not
// start with one (or is empty).
std::size_t utf8_sequence_length(std::string_view text);
bool is_valid_utf8(std::string_view text);
// `text` with each byte that does not start a well-formed sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);
// The number of code points (what a limit in "characters" counts); each byte of a
// malformed sequence counts as one.
std::size_t utf8_length(std::string_view text);
// True if `text` holds a C0 or C1 control character or DEL (U+0000-001F, U+007F-009F).
bool has_control_character(std::string_view text);

}  // namespace alliance
