// Error codes on the wire and their mapping to absl::Status.
// Thread-safety: free functions, no shared state.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace superline {

// The codes of the superline.v1 wire. Handlers may also use any custom code string.
inline constexpr std::string_view kBadRequest = "BAD_REQUEST";
inline constexpr std::string_view kUnauthorized = "UNAUTHORIZED";
inline constexpr std::string_view kForbidden = "FORBIDDEN";
inline constexpr std::string_view kNotFound = "NOT_FOUND";
inline constexpr std::string_view kTimeout = "TIMEOUT";
inline constexpr std::string_view kValidation = "VALIDATION";
inline constexpr std::string_view kDisconnected = "DISCONNECTED";
inline constexpr std::string_view kInternal = "INTERNAL";
inline constexpr std::string_view kRateLimited = "RATE_LIMITED";  // over ServerOptions' request rate
// A frame would be larger than ServerOptions::max_outbound_message_bytes.
inline constexpr std::string_view kPayloadTooLarge = "PAYLOAD_TOO_LARGE";
// The handler pool's queue is full (ServerOptions::max_queued_handlers).
inline constexpr std::string_view kBusy = "BUSY";

// A status carrying a wire error code, standard or custom ("RATE_LIMITED"). The code travels as a
// status payload, so error_code() gets it back exactly; the canonical absl code is the closest one.
absl::Status error(std::string_view code, std::string_view message);

// The wire code of a status: the one given to error(), else one mapped from the canonical code
// (PermissionDenied -> FORBIDDEN, NotFound -> NOT_FOUND, InvalidArgument -> BAD_REQUEST, ...).
std::string error_code(const absl::Status& status);

// Whether the status was made by error(), with an explicit wire code.
bool has_wire_code(const absl::Status& status);

}  // namespace superline
