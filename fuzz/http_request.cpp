// The gateway's request reading (HeaderBudget over Beast's parser) fed the input as
// reads of fuzzer-chosen sizes, with small limits so they are reached often. Must hold:
// a header that passes is within the byte and field limits and its framing is
// unambiguous; a body never exceeds the body limit.
#include <fuzzer/FuzzedDataProvider.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdlib>
#include <iterator>
#include <string>

#include "request_limits.hpp"

namespace http = boost::beast::http;
using alliance::gateway::HeaderBudget;
using alliance::gateway::RequestLimits;
using alliance::gateway::RequestParser;

namespace {

constexpr RequestLimits kLimits{512, 12};
constexpr std::size_t kBodyLimit = 1024;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::size_t read_size = in.ConsumeIntegralInRange<std::size_t>(1, 64);
  const std::string bytes = in.ConsumeRemainingBytesAsString();
  RequestParser parser;
  parser.header_limit(kLimits.header_limit);
  parser.body_limit(kBodyLimit);
  HeaderBudget budget(kLimits);
  std::string buffer;
  std::size_t offset = 0;
  boost::beast::error_code ec;
  auto step = [&]() -> bool {  // one read, then one parse step; false when the input ran out
    if (offset >= bytes.size() && buffer.empty()) return false;
    const std::size_t n = std::min(read_size, bytes.size() - offset);
    buffer.append(bytes, offset, n);
    offset += n;
    const std::size_t used = parser.put(boost::asio::buffer(buffer), ec);
    check(used <= buffer.size());
    buffer.erase(0, used);
    if (!parser.is_header_done()) budget.consumed(used);
    if (ec == http::error::need_more) {
      ec = {};
      return n > 0;
    }
    return !ec;
  };
  while (!parser.is_header_done()) {
    if (budget.before_step(parser)) {
      check(budget.used() >= kLimits.header_limit);
      return 0;
    }
    if (!step()) return 0;
  }
  const auto& request = parser.get();
  if (budget.check_header(request)) return 0;
  check(budget.used() <= kLimits.header_limit);
  check(static_cast<std::size_t>(std::distance(request.begin(), request.end())) <= kLimits.header_fields_limit);
  check(request.count(http::field::transfer_encoding) == 0 ||
        request.count(http::field::content_length) == 0);
  while (!parser.is_done() && step()) {
  }
  check(request.body().size() <= kBodyLimit);
  return 0;
}
