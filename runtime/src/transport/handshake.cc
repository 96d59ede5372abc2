#include "handshake.h"

#include <algorithm>

#include <boost/beast/websocket/rfc6455.hpp>

#include "absl/strings/ascii.h"
#include "superline/internal/text.h"
#include "ws_codec.h"

namespace superline {

namespace http = boost::beast::http;

std::optional<Refusal> check_upgrade(const UpgradeRequest& request) {
  if (!boost::beast::websocket::is_upgrade(request))
    return Refusal{http::status::bad_request, "expected a WebSocket upgrade\n"};
  if (request.find(http::field::host) == request.end())
    return Refusal{http::status::bad_request, "missing Host header\n"};
  if (request[http::field::sec_websocket_version] != "13") return Refusal{http::status::upgrade_required, ""};
  const auto key = request[http::field::sec_websocket_key];
  if (!valid_websocket_key(std::string_view(key.data(), key.size())))
    return Refusal{http::status::bad_request, "bad Sec-WebSocket-Key\n"};
  return std::nullopt;
}

bool valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22)) {
    if (!absl::ascii_isalnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

http::status refusal_status(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return http::status::bad_request;
    case absl::StatusCode::kPermissionDenied:
      return http::status::forbidden;
    case absl::StatusCode::kResourceExhausted:
      return http::status::too_many_requests;
    case absl::StatusCode::kUnavailable:
      return http::status::service_unavailable;
    default:
      return http::status::unauthorized;
  }
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && absl::ascii_isxdigit(in[i + 1]) &&
               absl::ascii_isxdigit(in[i + 2])) {
      auto hex = [](char c) {
        return absl::ascii_isdigit(c) ? c - '0' : (absl::ascii_tolower(c) - 'a' + 10);
      };
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

Handshake read_handshake(const UpgradeRequest& request, std::string remote_address) {
  Handshake handshake;
  std::string_view target(request.target().data(), request.target().size());
  const size_t q = target.find('?');
  handshake.path = percent_decode(target.substr(0, q));
  if (q != std::string_view::npos) {
    for (std::string_view pair : split(target.substr(q + 1), '&')) {
      const size_t eq = pair.find('=');
      handshake.query[percent_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
  }
  for (const auto& field : request) {
    handshake.headers[to_lower(std::string_view(field.name_string().data(), field.name_string().size()))] =
        std::string(field.value());
  }
  handshake.remote_address = std::move(remote_address);
  return handshake;
}

std::string switching_protocols(const UpgradeRequest& request, std::string_view subprotocol,
                                std::string_view contract_id) {
  const auto key = request[boost::beast::http::field::sec_websocket_key];
  std::string response = cat("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
                             "Server: superline\r\nSec-WebSocket-Accept: ",
                             ws::accept_key(std::string_view(key.data(), key.size())), "\r\n");
  if (!subprotocol.empty()) response += cat("Sec-WebSocket-Protocol: ", subprotocol, "\r\n");
  if (!contract_id.empty()) response += cat(kContractHeader, ": ", contract_id, "\r\n");
  response += "\r\n";
  return response;
}

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  if (allowed.empty() || origin.empty()) return true;
  return std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

std::string_view choose_subprotocol(std::string_view header) {
  for (std::string_view p : split(header, ',')) {
    p = trim(p);
    if (p == kJsonSubprotocol) return kJsonSubprotocol;
    if (p == kBinarySubprotocol) return kBinarySubprotocol;
  }
  return {};
}

}  // namespace superline
