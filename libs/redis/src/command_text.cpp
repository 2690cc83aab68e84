#include "command_text.hpp"

#include <charconv>
#include <cstddef>

namespace alliance::redis::detail {
namespace {

void append_header(std::string& out, char kind, std::size_t n) {
  char text[24];
  text[0] = kind;
  auto [end, ec] = std::to_chars(text + 1, text + sizeof text - 2, n);
  (void)ec;  // 20 digits always fit
  *end++ = '\r';
  *end++ = '\n';
  out.append(text, static_cast<std::size_t>(end - text));
}

}  // namespace

void append_command(std::string& out, const std::vector<std::string>& args) {
  append_header(out, '*', args.size());
  for (const auto& a : args) {
    append_header(out, '$', a.size());
    out.append(a);
    out.append("\r\n", 2);
  }
}

}  // namespace alliance::redis::detail
