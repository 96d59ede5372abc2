// Small text helpers for the runtime: JSON string escaping, concatenation of std::string_view parts,
// and bridging to Debian's Abseil, whose absl::string_view is a type of its own.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace superline {

// Appends `text` as a JSON string literal, quotes included. Bytes that are not UTF-8 become U+FFFD,
// so the literal is valid in a text frame whatever `text` holds.
void append_json_string(std::string& out, std::string_view text);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates, or code points past U+10FFFF).
bool is_utf8(std::string_view text);
// `text` with each byte that does not begin a valid UTF-8 sequence replaced by U+FFFD.
std::string repair_utf8(std::string_view text);
// Valid UTF-8 without control characters (C0, DEL, C1): text that shows as exactly what it is.
bool is_plain_text(std::string_view text);

inline std::string_view std_view(absl::string_view s) { return {s.data(), s.size()}; }
inline absl::string_view absl_view(std::string_view s) { return {s.data(), s.size()}; }

namespace internal {
inline void append_part(std::string& out, std::string_view part) { out.append(part); }
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void append_part(std::string& out, T value) {
  out += std::to_string(value);
}
}  // namespace internal

// Splits on `separator`, dropping empty parts.
std::vector<std::string_view> split(std::string_view text, char separator);
std::string_view trim(std::string_view text);
std::string to_lower(std::string_view text);
// A client-supplied name as error messages quote it: at most 128 bytes (cut on a character
// boundary, then "..."), so an error never echoes a huge name back.
std::string clip(std::string_view name);

// cat("Unknown topic: ", topic) for text and integers.
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (internal::append_part(out, parts), ...);
  return out;
}

}  // namespace superline
