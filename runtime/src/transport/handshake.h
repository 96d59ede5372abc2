// Reading a WebSocket upgrade request (already parsed by Beast) into what authenticate() sees, and
// choosing the subprotocol. Separate from the session so it can be tested and fuzzed on its own.
// Thread-safety: free functions, no shared state.
#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "superline/server.h"

namespace superline {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::empty_body>;

// An upgrade refused before the application sees it: the HTTP status and a one-line body.
struct Refusal {
  boost::beast::http::status status;
  std::string_view body;
};

// What RFC 6455 §4.2.1 requires of an opening handshake: a GET upgrade to "websocket" over
// HTTP/1.1 with a Host, Sec-WebSocket-Version 13 (else 426) and a Sec-WebSocket-Key that is the
// base64 encoding of 16 bytes. nullopt when all hold.
std::optional<Refusal> check_upgrade(const UpgradeRequest& request);

// Whether `key` is the base64 encoding of exactly 16 bytes (22 characters of the alphabet, "==").
bool valid_websocket_key(std::string_view key);

// The HTTP status an authenticator's refusal is answered with: 400 for INVALID_ARGUMENT (a
// parameter that cannot be read as text), 403 PERMISSION_DENIED, 429 RESOURCE_EXHAUSTED, 503
// UNAVAILABLE, 401 for everything else.
boost::beast::http::status refusal_status(const absl::Status& status);

// Decodes %XX escapes and '+' (a space); a malformed escape is kept as it is.
std::string percent_decode(std::string_view in);

// Path and query percent-decoded (a repeated key: the last wins), header names lower-cased.
Handshake read_handshake(const UpgradeRequest& request, std::string remote_address);

// The 101 that completes the upgrade of `request` (already checked), speaking `subprotocol` ("" to
// name none), naming the server's contract (`Superline-Contract: <contract_id>`; none when empty).
std::string switching_protocols(const UpgradeRequest& request, std::string_view subprotocol,
                                std::string_view contract_id);

// Whether a browser's Origin header is one of `allowed` (empty: any; no header: not a browser, let
// through to the authenticator).
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

// The first of the client's subprotocols (a Sec-WebSocket-Protocol value) that we speak, in its
// order of preference; "" if none (the connection then speaks JSON without naming it, like a
// super-line client that offers nothing).
std::string_view choose_subprotocol(std::string_view header);

}  // namespace superline
