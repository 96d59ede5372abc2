#include "wire_json.h"

#include <boost/json/src.hpp>  // Boost.JSON compiled into this library (header-only mode)

namespace superline {
namespace {

namespace json = boost::json;

// Reads a string field; false if present with another type.
bool read_string(const json::object& obj, std::string_view key, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return true;
  if (!it->value().is_string()) return false;
  const json::string& s = it->value().get_string();
  out.assign(s.data(), s.size());
  return true;
}

}  // namespace

absl::StatusOr<WireFrame> parse_wire_frame(std::string_view text) {
  unsigned char buffer[4096];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(text.data(), text.size()), ec, &arena, options);
  if (ec) return absl::InvalidArgumentError("malformed frame: " + ec.message());
  if (!root.is_object()) return absl::InvalidArgumentError("malformed frame: not a JSON object");
  const json::object& obj = root.get_object();

  WireFrame frame;
  if (!read_string(obj, "t", frame.t) || frame.t.empty()) {
    return absl::InvalidArgumentError("malformed frame: \"t\" must be a non-empty string");
  }
  if (!read_string(obj, "m", frame.m) || !read_string(obj, "c", frame.c) || !read_string(obj, "e", frame.e) ||
      !read_string(obj, "code", frame.code)) {
    return absl::InvalidArgumentError("malformed frame: \"m\", \"c\", \"e\" and \"code\" must be strings");
  }
  if (auto it = obj.find("i"); it != obj.end()) {
    const json::value& i = it->value();
    if (!i.is_int64() && !i.is_uint64() && !i.is_string()) {
      return absl::InvalidArgumentError("malformed frame: \"i\" must be a number or a string");
    }
    frame.i = json::serialize(i);
  }
  if (auto it = obj.find("d"); it != obj.end()) {
    frame.d = json::serialize(it->value());
    frame.has_d = true;
  }
  return frame;
}

}  // namespace superline
