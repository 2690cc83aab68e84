#pragma once
// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.
// For text handed to writers that assume valid UTF-8 (libical folds lines by it).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace alliance {

// The length of the well-formed sequence at the start of `text`, or 0 if it does not
// start with one (or is empty).
std::size_t utf8_sequence_length(std::string_view text);
// Decodes the code point at text[i] and moves i past it; nullopt, i unchanged, if no
// well-formed sequence starts there (or i is at the end).
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i);
bool is_valid_utf8(std::string_view text);
// `text` with each byte that does not start a well-formed sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);
// The number of code points (what a limit in "characters" counts); each byte of a
// malformed sequence counts as one.
std::size_t utf8_length(std::string_view text);
// C0 and C1 control characters and DEL (U+0000-001F, U+007F-009F).
bool is_control(char32_t c);
// True if `text` holds one (bytes of malformed sequences are not looked at).
bool has_control_character(std::string_view text);

}  // namespace alliance
