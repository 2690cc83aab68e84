#include "request_limits.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>
#include <iterator>

namespace alliance::gateway {

namespace beast = boost::beast;
namespace http = beast::http;

beast::error_code HeaderBudget::before_step(RequestParser& parser) const {
  if (used_ >= limits_.header_limit) return http::error::header_limit;
  parser.header_limit(static_cast<std::uint32_t>(limits_.header_limit - used_));
  return {};
}

beast::error_code HeaderBudget::check_header(const http::request<http::string_body>& request) const {
  // A step that parses the request line gives the fields a fresh header_limit, so the
  // total is looked at once more.
  if (used_ > limits_.header_limit ||
      static_cast<std::size_t>(std::distance(request.begin(), request.end())) > limits_.header_fields_limit)
    return http::error::header_limit;
  // Beast only knows chunked and lets any other coding, or one after chunked, fall back
  // to Content-Length or to no body at all; the gateway decodes nothing else.
  if (request.count(http::field::transfer_encoding) != 0 &&
      (request.count(http::field::transfer_encoding) != 1 || request.count(http::field::content_length) != 0 ||
       !beast::iequals(request[http::field::transfer_encoding], "chunked")))
    return http::error::bad_transfer_encoding;
  return {};
}

}  // namespace alliance::gateway
