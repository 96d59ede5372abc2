// The names of the adapter channels everything compiles down to, built and parsed here only:
//   r:<room>          a room's members on every node
//   t:<ns>:<topic>    a topic of role <ns> ("shared" for shared topics)
//   c:<conn>          one connection, wherever it is (to_conn)
//   u:<user>          every connection of one user (to_user)
//   s2s               node-to-node events
//   reply:<node>      answers routed back to one node
// Thread-safety: free functions, no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace superline::channels {

enum class Kind { kRoom, kTopic, kConn, kUser, kServer, kReply };

std::string room(std::string_view name);
std::string topic(std::string_view ns, std::string_view topic);
std::string conn(std::string_view conn_id);
std::string user(std::string_view user_id);
inline constexpr std::string_view kServer = "s2s";
std::string reply(std::string_view node_id);

// A channel name taken apart; views into the name it was parsed from.
struct Parsed {
  Kind kind;
  std::string_view ns;    // a topic's role namespace; empty otherwise
  std::string_view name;  // the room, topic, connection, user or node; empty for s2s
};

// nullopt for a name none of the functions above makes.
std::optional<Parsed> parse(std::string_view channel);

}  // namespace superline::channels
