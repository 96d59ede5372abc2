// What protobuf's JSON parser lets through that the contract's types forbid. JsonStringToMessage
// (protobuf 3.21) takes "yes" for a bool, a lone value for a repeated field, an object for a list
// of messages, and, with unknown fields ignored (our default, for rolling deploys), turns an enum
// name it does not know into the zero value. A wrong value for a known field must be VALIDATION in
// every mode, so payloads are checked against their descriptor first; unknown fields stay ignored.
// Thread-safety: a free function.
#pragma once

#include <google/protobuf/descriptor.h>

#include <boost/json/value.hpp>

#include "absl/status/status.h"

namespace superline {

// INVALID_ARGUMENT naming the first field (as a path: "teams[1]", "inner.x") whose JSON value
// protobuf's JSON mapping does not allow for its type.
absl::Status check_json_values(const boost::json::value& payload, const google::protobuf::Descriptor& type);

}  // namespace superline
