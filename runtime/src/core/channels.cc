#include "channels.h"

namespace superline::channels {
namespace {

std::string prefixed(std::string_view prefix, std::string_view rest) {
  std::string out;
  out.reserve(prefix.size() + rest.size());
  out.append(prefix).append(rest);
  return out;
}

bool take_prefix(std::string_view& in, std::string_view prefix) {
  if (in.substr(0, prefix.size()) != prefix) return false;
  in.remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::string room(std::string_view name) { return prefixed("r:", name); }
std::string conn(std::string_view conn_id) { return prefixed("c:", conn_id); }
std::string user(std::string_view user_id) { return prefixed("u:", user_id); }
std::string reply(std::string_view node_id) { return prefixed("reply:", node_id); }

std::string topic(std::string_view ns, std::string_view topic) {
  std::string out;
  out.reserve(2 + ns.size() + 1 + topic.size());
  out.append("t:").append(ns).append(":").append(topic);
  return out;
}

std::optional<Parsed> parse(std::string_view channel) {
  std::string_view rest = channel;
  if (channel == kServer) return Parsed{Kind::kServer, {}, {}};
  if (take_prefix(rest, "r:")) return Parsed{Kind::kRoom, {}, rest};
  if (take_prefix(rest, "c:")) return Parsed{Kind::kConn, {}, rest};
  if (take_prefix(rest, "u:")) return Parsed{Kind::kUser, {}, rest};
  if (take_prefix(rest, "reply:")) return Parsed{Kind::kReply, {}, rest};
  if (take_prefix(rest, "t:")) {
    // Role names are protobuf identifiers: the first ':' ends the namespace.
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    return Parsed{Kind::kTopic, rest.substr(0, colon), rest.substr(colon + 1)};
  }
  return std::nullopt;
}

}  // namespace superline::channels
