// What a VALIDATION error says failed: a list of issues {path, code, message}, the shape zod and
// super-line's clients read, on both wires. The server checks a payload's types when it decodes it
// and the contract's constraints ((superline.required), min_len, max_len, min, max, max_items in
// superline/options.proto) before a handler runs; a handler may refuse with issues of its own.
// Thread-safety: free functions; check_constraints may be called from any thread.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "superline/frame.h"

namespace superline {

// A field's JSON name or a map key (string), or a position in a repeated field.
using PathElement = std::variant<std::string, uint64_t>;

// zod's issue codes, for the failures superline knows.
inline constexpr std::string_view kInvalidType = "invalid_type";  // the wrong type, or required and unset
inline constexpr std::string_view kTooSmall = "too_small";        // under min_len or min
inline constexpr std::string_view kTooBig = "too_big";            // over max_len, max or max_items
inline constexpr std::string_view kCustom = "custom";             // a VALIDATION without issues of its own

struct ValidationIssue {
  std::vector<PathElement> path;
  std::string code;
  std::string message;
  bool operator==(const ValidationIssue&) const = default;
};

// A VALIDATION status carrying `issues` (none: one kCustom issue with `message`). Its message reads
// "<path>: <message>" for the first issue, "(and N more)" after it.
absl::Status validation_error(std::vector<ValidationIssue> issues);
// The issues a VALIDATION status carries; for one made without them (error(kValidation, m)), one
// kCustom issue with its message and an empty path. Empty for any other status.
std::vector<ValidationIssue> validation_issues(const absl::Status& status);

// The issues as an err frame's "d" carries them: on the JSON wire the array itself
// ([{"path":["text"],"code":"too_big","message":"..."}]), on the binary wire a serialized
// superline.wire.ValidationIssues. decode_issues reads either back (what it cannot read: nothing).
std::string encode_issues(Wire wire, const std::vector<ValidationIssue>& issues);
std::vector<ValidationIssue> decode_issues(Wire wire, std::string_view d);

// "text", "peers[1].node": a path as one line of text.
std::string format_path(const std::vector<PathElement>& path);

// The contract's constraints that `message` (and every message inside it) fails; empty when it
// meets them all. A field with no constraint costs nothing; a message type with none anywhere in
// it costs one lookup.
std::vector<ValidationIssue> check_constraints(const google::protobuf::Message& message);

}  // namespace superline
