// Reading a WebSocket upgrade request (already parsed by Beast) into what authenticate() sees, and
// choosing the subprotocol. Separate from the session so it can be tested and fuzzed on its own.
// Thread-safety: free functions, no shared state.
#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <string>
#include <string_view>

#include "superline/server.h"

namespace superline {

// Decodes %XX escapes and '+' (a space); a malformed escape is kept as it is.
std::string percent_decode(std::string_view in);

// Path and query percent-decoded (a repeated key: the last wins), header names lower-cased.
Handshake read_handshake(const boost::beast::http::request<boost::beast::http::empty_body>& request,
                         std::string remote_address);

// The first of the client's subprotocols (a Sec-WebSocket-Protocol value) that we speak, in its
// order of preference; "" if none (the connection then speaks JSON without naming it, like a
// super-line client that offers nothing).
std::string_view choose_subprotocol(std::string_view header);

}  // namespace superline
