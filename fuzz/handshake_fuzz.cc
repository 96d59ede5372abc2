// Arbitrary upgrade requests: Beast's HTTP parser under the server's header limit, then the query and
// header reading that authenticate() sees, and the subprotocol choice.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(8 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  const auto& request = parser.get();
  superline::Handshake handshake = superline::read_handshake(request, "127.0.0.1");
  for (const auto& [name, value] : handshake.headers) {
    for (char c : name) {
      if (c >= 'A' && c <= 'Z') std::abort();  // names are lower-cased
    }
  }
  const std::string_view chosen = superline::choose_subprotocol(handshake.header("sec-websocket-protocol"));
  if (!chosen.empty() && chosen != superline::kJsonSubprotocol && chosen != superline::kBinarySubprotocol) {
    std::abort();
  }
  return 0;
}
