#include "superline/status.h"

#include "absl/strings/cord.h"
#include "superline/internal/text.h"

namespace superline {
namespace {

constexpr std::string_view kCodePayload = "superline.dev/code";

absl::StatusCode canonical(std::string_view code) {
  if (code == kBadRequest || code == kValidation) return absl::StatusCode::kInvalidArgument;
  if (code == kUnauthorized) return absl::StatusCode::kUnauthenticated;
  if (code == kForbidden) return absl::StatusCode::kPermissionDenied;
  if (code == kNotFound) return absl::StatusCode::kNotFound;
  if (code == kTimeout) return absl::StatusCode::kDeadlineExceeded;
  if (code == kDisconnected) return absl::StatusCode::kUnavailable;
  if (code == kInternal) return absl::StatusCode::kInternal;
  if (code == kRateLimited || code == kPayloadTooLarge || code == kBusy) return absl::StatusCode::kResourceExhausted;
  return absl::StatusCode::kUnknown;
}

}  // namespace

absl::Status error(std::string_view code, std::string_view message) {
  absl::Status status(canonical(code), absl_view(message.empty() ? code : message));
  status.SetPayload(absl_view(kCodePayload), absl::Cord(absl_view(code)));
  return status;
}

bool has_wire_code(const absl::Status& status) {
  return status.GetPayload(absl_view(kCodePayload)).has_value();
}

std::string error_code(const absl::Status& status) {
  if (auto code = status.GetPayload(absl_view(kCodePayload))) return std::string(*code);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return std::string(kBadRequest);
    case absl::StatusCode::kUnauthenticated:
      return std::string(kUnauthorized);
    case absl::StatusCode::kPermissionDenied:
      return std::string(kForbidden);
    case absl::StatusCode::kNotFound:
      return std::string(kNotFound);
    case absl::StatusCode::kDeadlineExceeded:
      return std::string(kTimeout);
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return std::string(kDisconnected);
    default:
      return std::string(kInternal);
  }
}

}  // namespace superline
