#include "superline/internal/wire.h"

#include <boost/json/src.hpp>  // Boost.JSON compiled into this library (header-only mode)

#include "absl/strings/numbers.h"
#include "superline/wire.pb.h"
#include "superline/internal/text.h"

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

// How many members the text of a valid JSON object writes at its top level, duplicates included:
// the commas outside nested values and strings, plus one. Boost.JSON keeps the last of duplicate
// keys; we refuse them instead, so no reader of a frame can take it for another.
size_t members_written(std::string_view text) {
  size_t commas = 0;
  int depth = 0;
  bool empty = true;
  for (size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
      case '"':
        if (depth == 1) empty = false;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\') ++i;
        }
        break;
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        --depth;
        break;
      case ',':
        if (depth == 1) ++commas;
        break;
      default:
        break;
    }
  }
  return empty ? 0 : commas + 1;
}

// A proto3 string field must hold UTF-8, or the peer's parser refuses the whole frame.
std::string text_field(std::string_view text) { return is_utf8(text) ? std::string(text) : repair_utf8(text); }

using BinaryFrame = wire::Frame;

// Frame type names, indexed by wire::Frame::Type.
constexpr std::string_view kTypeNames[] = {"",    "env", "req",   "res", "err",  "evt",  "pub", "sub",
                                           "unsub", "cev", "ping", "pong", "sreq", "sres", "serr"};

absl::StatusOr<WireFrame> parse_binary_frame(std::string_view data) {
  BinaryFrame in;
  if (!in.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::InvalidArgumentError("malformed frame: not a superline.wire.Frame");
  }
  const int type = in.t();
  if (type <= 0 || type >= static_cast<int>(std::size(kTypeNames))) {
    return absl::InvalidArgumentError("malformed frame: unknown frame type " + std::to_string(type));
  }
  WireFrame frame;
  frame.t = kTypeNames[type];
  if (in.i() != 0) frame.i = std::to_string(in.i());
  frame.m = std::move(*in.mutable_m());
  frame.c = std::move(*in.mutable_c());
  frame.e = std::move(*in.mutable_e());
  frame.code = std::move(*in.mutable_code());
  frame.nd = std::move(*in.mutable_nd());
  frame.d = std::move(*in.mutable_d());
  // proto3 cannot tell an empty payload from none; both are the empty message. Only an env may be
  // null, which env_set says.
  frame.has_d = type != BinaryFrame::ENV || in.env_set();
  return frame;
}

std::string encode_binary_frame(const WireFrame& frame) {
  BinaryFrame out;
  for (size_t type = 1; type < std::size(kTypeNames); ++type) {
    if (kTypeNames[type] == frame.t) out.set_t(static_cast<BinaryFrame::Type>(type));
  }
  uint64_t id = 0;
  if (!frame.i.empty() && absl::SimpleAtoi(absl_view(frame.i), &id)) out.set_i(id);
  out.set_m(text_field(frame.m));
  out.set_c(text_field(frame.c));
  out.set_e(text_field(frame.e));
  out.set_code(text_field(frame.code));
  out.set_nd(text_field(frame.nd));
  if (frame.has_d) out.set_d(frame.d);
  if (out.t() == BinaryFrame::ENV) out.set_env_set(frame.has_d);
  return out.SerializeAsString();
}

std::string encode_json_frame(const WireFrame& frame) {
  std::string out = R"({"t":)";
  append_json_string(out, frame.t);
  auto field = [&](std::string_view key, std::string_view value, bool raw) {
    if (value.empty()) return;
    out += ",\"";
    out += key;
    out += "\":";
    if (raw) {
      out += value;
    } else {
      append_json_string(out, value);
    }
  };
  field("i", frame.i, true);
  field("e", frame.e, false);
  field("c", frame.c, false);
  field("code", frame.code, false);
  field("m", frame.m, false);
  if (frame.has_d) field("d", frame.d.empty() ? std::string_view("null") : std::string_view(frame.d), true);
  field("nd", frame.nd, false);
  out += '}';
  return out;
}

}  // namespace

absl::StatusOr<WireFrame> parse_frame(Wire wire, std::string_view data) {
  return wire == Wire::kJson ? parse_wire_frame(data) : parse_binary_frame(data);
}

std::string encode_frame(Wire wire, const WireFrame& frame) {
  return wire == Wire::kJson ? encode_json_frame(frame) : encode_binary_frame(frame);
}

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
  if (members_written(text) != obj.size()) return absl::InvalidArgumentError("malformed frame: duplicate key");

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
