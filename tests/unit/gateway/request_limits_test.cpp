// The header limits as the server applies them, driven with plain buffers: each
// piece arrives as one read, and the parser is stepped the way http::async_read_some
// steps it (what a step parsed leaves the buffer).
#include "src/request_limits.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <string>
#include <vector>

namespace alliance::gateway {
namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;

struct Fed {
  error_code ec;
  bool header_done = false;
  std::size_t fields = 0;
  std::size_t parsed = 0;  // header bytes the parser took
};

// With `budget` the server's HeaderBudget; without, Beast's own header_limit set once
// to the same 8 KiB, as a Beast server does by default.
Fed feed(const std::vector<std::string>& pieces, bool budget, RequestLimits limits = {}) {
  RequestParser parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
  HeaderBudget b(limits);
  std::string buffer;
  Fed out;
  for (const auto& piece : pieces) {
    buffer += piece;
    if (budget) {
      if (auto ec = b.before_step(parser)) {
        out.ec = ec;
        return out;
      }
    }
    error_code ec;
    const std::size_t n = parser.put(boost::asio::buffer(buffer), ec);
    buffer.erase(0, n);
    out.parsed += n;
    if (budget) b.consumed(n);
    if (ec == http::error::need_more) continue;
    if (ec) {
      out.ec = ec;
      return out;
    }
    if (parser.is_header_done()) break;
  }
  out.header_done = parser.is_header_done();
  if (out.header_done) {
    const auto& req = parser.get();
    out.fields = static_cast<std::size_t>(std::distance(req.begin(), req.end()));
    if (budget) out.ec = b.check_header(req);
  }
  return out;
}

// A request with Host and `fields` more fields, one line per read, each read ending
// with the first byte of the next line: Beast parses every complete field it is given
// and keeps only what follows, and its header_limit counts only that.
std::vector<std::string> one_line_per_read(std::size_t fields) {
  std::vector<std::string> lines{"GET /v1/me HTTP/1.1\r\n", "Host: a\r\n"};
  for (std::size_t i = 0; i < fields; ++i) lines.push_back("X-Filler-" + std::to_string(i) + ": b\r\n");
  lines.push_back("\r\n");
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // The first byte of each line after the first went with the read before.
    std::string piece = lines[i].substr(i == 0 ? 0 : 1);
    if (i + 1 < lines.size()) piece += lines[i + 1].front();
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

TEST(HeaderBudget, TenThousandLinesSentOneAtATimePassBeastsOwnLimitButNotTheBudget) {
  const auto pieces = one_line_per_read(10'000);  // about 175 KiB of header
  // What the gateway did before the budget: every line is parsed, the whole block kept.
  Fed beast_alone = feed(pieces, false);
  EXPECT_FALSE(beast_alone.ec) << beast_alone.ec.message() << " after " << beast_alone.parsed;
  EXPECT_TRUE(beast_alone.header_done);
  EXPECT_EQ(beast_alone.fields, 10'001u);
  EXPECT_GT(beast_alone.parsed, 20u * 8 * 1024) << "over 20 times the 8 KiB limit";
  // With the budget: refused as too large before 8 KiB of it is taken.
  Fed budgeted = feed(pieces, true);
  EXPECT_EQ(budgeted.ec, http::error::header_limit);
  EXPECT_FALSE(budgeted.header_done);
  EXPECT_LE(budgeted.parsed, 8u * 1024);
}

TEST(HeaderBudget, AHeaderInOneReadIsBoundTheSame) {
  std::string whole;
  for (const auto& p : one_line_per_read(1'000)) whole += p;
  Fed f = feed({whole}, true);
  EXPECT_EQ(f.ec, http::error::header_limit);
}

TEST(HeaderBudget, AHundredFieldsAreServedAndOneMoreIs431) {
  Fed hundred = feed(one_line_per_read(99), true);  // Host + 99
  EXPECT_FALSE(hundred.ec) << hundred.ec.message();
  EXPECT_EQ(hundred.fields, 100u);
  Fed more = feed(one_line_per_read(100), true);
  EXPECT_TRUE(more.header_done);
  EXPECT_EQ(more.ec, http::error::header_limit);
}

TEST(HeaderBudget, TheLastByteOfTheBudgetIsAllowed) {
  // A request whose header block is exactly the limit is served; one byte more is not.
  auto sized = [](std::size_t total) {
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
    const std::string end = "\r\n\r\n";
    head += std::string(total - head.size() - end.size(), 'p');
    return head + end;
  };
  RequestLimits limits{256, 100};
  EXPECT_FALSE(feed({sized(256)}, true, limits).ec);
  EXPECT_EQ(feed({sized(257)}, true, limits).ec, http::error::header_limit);
}

TEST(HeaderBudget, TransferEncodingOtherThanOneChunkedOrWithContentLengthIsBadFraming) {
  auto framed = [](const std::string& fields) {
    return feed({"POST /v1/x HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"}, true).ec;
  };
  EXPECT_FALSE(framed("Transfer-Encoding: chunked\r\n"));
  EXPECT_FALSE(framed("Transfer-Encoding: CHUNKED\r\n"));
  EXPECT_FALSE(framed("Content-Length: 3\r\n"));
  for (const char* bad : {"Transfer-Encoding: xchunked\r\nContent-Length: 3\r\n",
                          "Transfer-Encoding: identity\r\nContent-Length: 3\r\n",
                          "Transfer-Encoding: chunked, identity\r\nContent-Length: 3\r\n",
                          "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                          "Transfer-Encoding: gzip\r\n",
                          "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"}) {
    const auto ec = framed(bad);
    // Beast refuses some of these itself; none may be read as a request with a body.
    EXPECT_TRUE(ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length ||
                ec == http::error::bad_value)
        << bad << " -> " << ec.message();
  }
}

}  // namespace
}  // namespace alliance::gateway
