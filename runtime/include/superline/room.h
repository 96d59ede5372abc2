// A named room: a set of connections the server puts together, across every node. Membership is
// node-local; a broadcast reaches members on every node through the adapter channel r:<name>.
// Thread-safety: a cheap handle; every method may be called from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "superline/conn.h"
#include "superline/frame.h"

namespace superline {

class Server;

class Room {
 public:
  Room(Server& server, std::string name);

  const std::string& name() const { return name_; }
  // Adds `conn`. When this makes the node subscribe the room's channel, `live` (optional) runs once
  // the adapter confirms it, from then on broadcasts from other nodes arrive; otherwise at once.
  void add(Conn& conn, std::function<void(absl::Status)> live = nullptr);
  void remove(Conn& conn);
  // Whether `conn` is a member (connections are always local to their node).
  bool contains(const Conn& conn) const;
  // Members on this node.
  std::size_t size() const;
  std::vector<std::string> members() const;
  // Sends an encoded frame to every member on every node, except the connection `except_conn`;
  // PAYLOAD_TOO_LARGE, sending nothing, if it is over the server's outbound limit.
  absl::Status broadcast_frame(SharedFrame frame, std::string_view except_conn = {}) const;

 private:
  Server& server_;
  std::string name_;
  std::string channel_;
};

}  // namespace superline
