// A contract's metadata as the runtime sees it: roles, and each method's wire name, kind and messages.
// Thread-safety: immutable after construction (generated code builds one static instance).
#pragma once

#include <google/protobuf/message.h>

#include <string_view>
#include <vector>

namespace superline {

enum class MethodKind {
  kRequest,      // client calls, server replies once
  kClientEvent,  // client -> server, no reply
  kEvent,        // server -> client, pushed to recipients the server picks
  kTopic,        // server -> client, to clients that subscribed
  kServerEvent,  // node -> node, never to the sender
  kServerRequest,  // server -> one client, which replies once (sreq -> sres/serr)
};

inline constexpr int kSharedRole = 0;  // roles[0]: inherited by every role

struct MethodInfo {
  std::string_view name;  // wire name
  MethodKind kind;
  int role;      // index into ContractInfo::roles; -1 for server events
  int dispatch;  // for requests and client events: the generated dispatch id; else -1
  const google::protobuf::Message* payload;  // default instance of what the sender sends
  const google::protobuf::Message* reply;    // (server) requests: default instance of the reply; else null
};

struct ContractInfo {
  std::string_view name;
  // "<package>.<Contract>@<16 hex>": the SHA-256 of the canonical descriptor (codegen's
  // contract_id.h). The server names it in the upgrade's Superline-Contract header; clients compare
  // it with their own.
  std::string_view id;
  std::vector<std::string_view> roles;  // roles[0] == "shared"
  std::vector<MethodInfo> methods;
  // Per role (parallel to `roles`): the default instance of its env message (option (superline.env),
  // its own or shared's), or null for a role without one.
  std::vector<const google::protobuf::Message*> envs;
};

}  // namespace superline
