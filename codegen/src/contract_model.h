// The contract read off one .proto file: roles, their methods and the node-to-node events, validated.
// Building the model is where every contract error is found; printing from it cannot fail.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

namespace superline::codegen {

enum class MethodKind {
  kRequest,      // rpc X(In) returns (Out);
  kClientEvent,  // rpc X(stream In) returns (google.protobuf.Empty);
  kEvent,        // rpc X(google.protobuf.Empty) returns (stream Out);
  kTopic,        // same as kEvent, with option (superline.topic) = true
  kServerEvent,  // in a server_to_server service: rpc X(stream In) returns (google.protobuf.Empty);
  kServerRequest,  // rpc X(In) returns (Out) with option (superline.server_request) = true
};

struct MethodModel {
  const google::protobuf::MethodDescriptor* method = nullptr;
  MethodKind kind = MethodKind::kRequest;
  std::string wire_name;     // "sendMessage" for rpc SendMessage
  std::string handler_name;  // "send_message": a role prefix on clashes, escaped (names.h)
  std::string client_name;   // "send_message", escaped (names.h): rpc Close is close_()
  std::string ts_name;       // "sendMessage", escaped for TypeScript (names.h)
  std::string tag_name;      // "SendMessage" (C++ tag type; kSendMessage is its constant)
  // The message a client sends (requests, client events), the server sends (events, topics, server
  // requests) or a node sends (server events), and for requests and server requests the reply.
  const google::protobuf::Descriptor* payload = nullptr;
  const google::protobuf::Descriptor* reply = nullptr;
};

struct RoleModel {
  const google::protobuf::ServiceDescriptor* service = nullptr;  // null for an implicit "shared"
  std::string name;                                              // wire name: "user"
  std::string type_name;                                         // C++ name: "User"
  std::vector<MethodModel> methods;
  // The connection's env in this role (option (superline.env)): its own, else shared's; null: none.
  const google::protobuf::Descriptor* env = nullptr;
};

struct ContractModel {
  const google::protobuf::FileDescriptor* file = nullptr;
  std::string name;                     // "Chat"
  std::vector<std::string> namespaces;  // {"chat"}
  // roles[0] is always "shared" (possibly empty); the others follow in declaration order.
  std::vector<RoleModel> roles;
  std::vector<MethodModel> server_events;
};

// Builds and validates the model. On failure returns false and sets *error to a message naming the
// file, service, method and option at fault.
bool BuildContractModel(const google::protobuf::FileDescriptor* file, ContractModel* model,
                        std::string* error);

// "SendMessage" -> "sendMessage"; "SendMessage" -> "send_message"; "user_admin" -> "UserAdmin".
std::string LowerFirst(const std::string& name);
std::string SnakeCase(const std::string& name);
std::string PascalCase(const std::string& name);

}  // namespace superline::codegen
