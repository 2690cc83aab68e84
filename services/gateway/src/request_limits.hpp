#pragma once
// The limits on one HTTP request's header, applied while it is parsed. Beast applies
// its header_limit to the bytes it has not parsed yet and drops the fields it has
// parsed from the buffer, so a header sent a few lines at a time never reaches it:
// HeaderBudget gives each parse step only what is left of the budget for the whole
// block, then checks the total, the number of fields and the framing. Light (Beast's
// HTTP parser only, no streams), so the unit tests and the fuzz target drive it with
// plain buffers exactly as the server does with a TLS stream.
//
//   HeaderBudget budget(limits);
//   while (!parser.is_header_done()) {
//     if (auto ec = budget.before_step(parser)) return ec;   // header_limit
//     n = read_some(stream, buffer, parser);                 // bytes parsed by this step
//     budget.consumed(n);
//   }
//   if (auto ec = budget.check_header(parser.get())) return ec;  // header_limit / bad_transfer_encoding
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>

namespace alliance::gateway {

struct RequestLimits {
  std::size_t header_limit = 8 * 1024;  // the whole header block: request line and fields
  std::size_t header_fields_limit = 100;
};

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

class HeaderBudget {
 public:
  explicit HeaderBudget(const RequestLimits& limits) : limits_(limits) {}

  // Before each parse step while the header is not done: gives the parser what is left
  // of the budget as its header_limit; http::error::header_limit once it is spent.
  boost::beast::error_code before_step(RequestParser& parser) const;
  // The bytes the step parsed.
  void consumed(std::size_t n) { used_ += n; }
  std::size_t used() const { return used_; }

  // Once the header is done. The byte budget bounds memory; the field count bounds the
  // work per request: over either, http::error::header_limit (431). A Transfer-Encoding
  // other than exactly one "chunked", or one with Content-Length, is a framing RFC 9112
  // section 6.3 calls ambiguous: http::error::bad_transfer_encoding (400 and close).
  boost::beast::error_code check_header(
      const boost::beast::http::request<boost::beast::http::string_body>& request) const;

 private:
  RequestLimits limits_;
  std::size_t used_ = 0;  // parsed so far (a step stops at the header's end)
};

}  // namespace alliance::gateway
