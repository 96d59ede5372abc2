// What protobuf's JSON parser lets through that the contract's types forbid. JsonStringToMessage
// (protobuf 3.21) takes "yes" for a bool, a lone value for a repeated field, an object for a list
// of messages, and, with unknown fields ignored (our default, for rolling deploys), turns an enum
// name it does not know into the zero value. A wrong value for a known field must be VALIDATION in
// every mode, so payloads are checked against their descriptor first; unknown fields stay ignored.
// The check also finds strings and numbers of the wrong kind before protobuf does, so that almost
// every type error names its field (protobuf's own messages do not).
// Thread-safety: a free function.
#pragma once

#include <google/protobuf/descriptor.h>

#include <boost/json/value.hpp>
#include <optional>

#include "superline/validation.h"

namespace superline {

// The first value whose JSON protobuf's JSON mapping does not allow for its field's type, as an
// issue: its path (the keys as sent, indexes), invalid_type, "Expected boolean, received string".
std::optional<ValidationIssue> check_json_values(const boost::json::value& payload,
                                                 const google::protobuf::Descriptor& type);

}  // namespace superline
