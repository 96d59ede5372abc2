#include "superline/status.h"

#include <gtest/gtest.h>

namespace {

TEST(Status, WireCodesRoundTrip) {
  for (std::string_view code :
       {superline::kBadRequest, superline::kUnauthorized, superline::kForbidden, superline::kNotFound,
        superline::kTimeout, superline::kValidation, superline::kDisconnected, superline::kInternal}) {
    EXPECT_EQ(superline::error_code(superline::error(code, "m")), code);
  }
  const absl::Status custom = superline::error("RATE_LIMITED", "slow down");
  EXPECT_EQ(superline::error_code(custom), "RATE_LIMITED");
  EXPECT_EQ(custom.message(), "slow down");
  EXPECT_EQ(superline::error(superline::kForbidden, "").message(), "FORBIDDEN");
}

TEST(Status, CanonicalCodesMapToTheClosestWireCode) {
  EXPECT_EQ(superline::error_code(absl::PermissionDeniedError("x")), "FORBIDDEN");
  EXPECT_EQ(superline::error_code(absl::NotFoundError("x")), "NOT_FOUND");
  EXPECT_EQ(superline::error_code(absl::InvalidArgumentError("x")), "BAD_REQUEST");
  EXPECT_EQ(superline::error_code(absl::UnauthenticatedError("x")), "UNAUTHORIZED");
  EXPECT_EQ(superline::error_code(absl::DeadlineExceededError("x")), "TIMEOUT");
  EXPECT_EQ(superline::error_code(absl::DataLossError("x")), "INTERNAL");
}

}  // namespace
