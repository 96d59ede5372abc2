#include "generator.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/printer.h>
#include <google/protobuf/io/zero_copy_stream.h>

#include <map>
#include <memory>

#include "contract_id.h"
#include "contract_model.h"
#include "print_util.h"
#include "ts_printer.h"

namespace superline::codegen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::io::Printer;
using Vars = std::map<std::string, std::string>;

// "::chat::JoinRequest" for message chat.JoinRequest (nested messages through their C++ alias).
std::string CppType(const Descriptor* d) {
  std::string out = "::";
  for (char c : d->full_name()) {
    if (c == '.') {
      out += "::";
    } else {
      out += c;
    }
  }
  return out;
}

const char* KindName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kRequest:
      return "kRequest";
    case MethodKind::kClientEvent:
      return "kClientEvent";
    case MethodKind::kEvent:
      return "kEvent";
    case MethodKind::kTopic:
      return "kTopic";
    case MethodKind::kServerEvent:
      return "kServerEvent";
    case MethodKind::kServerRequest:
      return "kServerRequest";
  }
  return "kRequest";
}

// Copies a .proto element's leading comment onto the generated symbol.
template <class D>
void PrintComments(Printer& p, const D* descriptor) {
  for (const std::string& line : LeadingComments(descriptor)) {
    p.Print({{"line", line}}, line.empty() ? "//\n" : "// $line$\n");
  }
}

bool IsInbound(MethodKind kind) { return kind == MethodKind::kRequest || kind == MethodKind::kClientEvent; }

// Dispatch ids of every request and client event, in the order of the generated Method enum.
struct Dispatchable {
  const RoleModel* role;
  const MethodModel* method;
  std::string enumerator;  // "kSharedJoin"
};

std::vector<Dispatchable> DispatchTable(const ContractModel& model) {
  std::vector<Dispatchable> out;
  for (const RoleModel& role : model.roles) {
    for (const MethodModel& m : role.methods) {
      if (IsInbound(m.kind)) out.push_back({&role, &m, "k" + role.type_name + m.tag_name});
    }
  }
  return out;
}

int DispatchId(const std::vector<Dispatchable>& table, const MethodModel& m) {
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].method == &m) return static_cast<int>(i);
  }
  return -1;
}

void PrintTag(Printer& p, const MethodModel& m, int role_index) {
  Vars vars = {{"Tag", m.tag_name},
               {"payload", CppType(m.payload)},
               {"name", m.wire_name},
               {"kind", KindName(m.kind)},
               {"role", std::to_string(role_index)}};
  PrintComments(p, m.method);
  p.Print(vars, "struct $Tag$ {\n");
  p.Indent();
  p.Print(vars,
          "using Payload = $payload$;\n"
          "static constexpr std::string_view kName = \"$name$\";\n"
          "static constexpr superline::MethodKind kKind = superline::MethodKind::$kind$;\n"
          "static constexpr int kRoleIndex = $role$;\n");
  if (m.reply != nullptr) p.Print({{"reply", CppType(m.reply)}}, "using Reply = $reply$;\n");
  p.Outdent();
  p.Print(vars, "};\nstatic constexpr $Tag$ k$Tag${};\n");
}

void PrintHandlerInterface(Printer& p, const RoleModel& role) {
  // Handlers get their connection typed by their role, so conn.emit of an event outside it does not
  // compile.
  p.Print({{"role", role.name}},
          "// Handlers of role \"$role$\"'s requests and client events.\n"
          "class Handlers {\n"
          " public:\n"
          "  virtual ~Handlers() = default;\n");
  p.Indent();
  for (const MethodModel& m : role.methods) {
    if (!IsInbound(m.kind)) continue;
    p.Print("\n");
    PrintComments(p, m.method);
    Vars vars = {{"handler", m.handler_name}, {"payload", CppType(m.payload)}, {"R", role.type_name}};
    if (m.kind == MethodKind::kRequest) {
      vars["reply"] = CppType(m.reply);
      p.Print(vars,
              "virtual superline::Reply<$reply$> $handler$(superline::Call<$reply$, $R$>& call, "
              "const $payload$& request) = 0;\n");
    } else {
      p.Print(vars,
              "virtual void $handler$(superline::RoleConn<$R$> conn, const $payload$& event) = 0;\n");
    }
  }
  p.Outdent();
  p.Print("};\n");
}

bool HasServerRequests(const RoleModel& role) {
  for (const MethodModel& m : role.methods) {
    if (m.kind == MethodKind::kServerRequest) return true;
  }
  return false;
}

// Whether a client of `role` answers server requests: its own or shared's.
bool AnswersServerRequests(const ContractModel& model, const RoleModel& role) {
  return HasServerRequests(model.roles[0]) || HasServerRequests(role);
}

// What a client of the role implements to answer the server's requests (shared's, inherited, and
// the role's own): a handler missing from the implementation is a compile error naming it.
void PrintClientHandlerInterface(Printer& p, const ContractModel& model, const RoleModel& role) {
  if (!AnswersServerRequests(model, role)) return;
  const bool inherits = &role != &model.roles[0] && HasServerRequests(model.roles[0]);
  if (inherits && !HasServerRequests(role)) {
    p.Print({{"role", role.name}},
            "\n// What a client of role \"$role$\" answers the server's requests with: shared's.\n"
            "using ClientHandlers = Shared::ClientHandlers;\n");
    return;
  }
  p.Print({{"role", role.name}},
          "\n"
          "// What a client of role \"$role$\" answers the server's requests with (sreq -> sres/serr).\n"
          "// A handler returns the reply, or a status the server's caller gets (its code on the wire).\n");
  p.Print(inherits ? "class ClientHandlers : public Shared::ClientHandlers {\n" : "class ClientHandlers {\n");
  p.Print(" public:\n  virtual ~ClientHandlers() = default;\n");
  p.Indent();
  for (const MethodModel& m : role.methods) {
    if (m.kind != MethodKind::kServerRequest) continue;
    p.Print("\n");
    PrintComments(p, m.method);
    p.Print({{"fn", m.client_name}, {"payload", CppType(m.payload)}, {"reply", CppType(m.reply)}},
            "virtual absl::StatusOr<$reply$> $fn$(const $payload$& request) = 0;\n");
  }
  p.Outdent();
  p.Print("};\n");
}

// The typed calls of one role's requests and client events, as client methods. Client methods keep
// the rpc name in snake_case (escaped where it would collide, names.h): a client has one role, so
// no prefix is ever needed.
void PrintClientMethods(Printer& p, const ContractModel& model, const RoleModel& role) {
  for (const MethodModel& m : role.methods) {
    if (!IsInbound(m.kind)) continue;
    Vars mv = {{"Contract", model.name},
               {"S", role.type_name},
               {"Tag", m.tag_name},
               {"fn", m.client_name},
               {"payload", CppType(m.payload)}};
    p.Print("\n");
    PrintComments(p, m.method);
    if (m.kind == MethodKind::kRequest) {
      mv["reply"] = CppType(m.reply);
      p.Print(
          mv,
          "absl::StatusOr<$reply$> $fn$(const $payload$& request, superline::CallOptions options = {}) {\n"
          "  return this->call($Contract$::$S$::k$Tag$, request, options);\n"
          "}\n"
          "void async_$fn$(const $payload$& request, std::function<void(absl::StatusOr<$reply$>)> done,\n"
          "    superline::CallOptions options = {}) {\n"
          "  this->async_call($Contract$::$S$::k$Tag$, request, std::move(done), options);\n"
          "}\n");
    } else {
      p.Print(mv,
              "absl::Status $fn$(const $payload$& event) {\n"
              "  return this->send_event($Contract$::$S$::k$Tag$, event);\n"
              "}\n");
    }
  }
}

void PrintHeader(Printer& p, const ContractModel& model, const std::string& stem) {
  const std::vector<Dispatchable> table = DispatchTable(model);
  Vars vars = {{"source", model.file->name()}, {"stem", stem}, {"Contract", model.name}};
  p.Print(vars,
          "// Generated by protoc-gen-superline. DO NOT EDIT.\n"
          "// source: $source$\n"
          "#pragma once\n"
          "\n"
          "#include <any>\n"
          "#include <functional>\n"
          "#include <memory>\n"
          "#include <string>\n"
          "#include <string_view>\n"
          "#include <utility>\n"
          "\n"
          "#include \"$stem$.pb.h\"\n"
          "#include \"superline/client.h\"\n"
          "#include \"superline/typed.h\"\n"
          "\n");
  for (const std::string& ns : model.namespaces) p.Print({{"ns", ns}}, "namespace $ns$ {\n");
  p.Print(vars,
          "\n"
          "class $Contract$Server;\n"
          "\n"
          "// The superline contract declared in $source$: its roles, the tag of every message\n"
          "// (Contract::Role::kName), and the handler interfaces a server implements.\n"
          "struct $Contract$ {\n");
  p.Indent();
  p.Print("enum class Role {");
  for (size_t r = 0; r < model.roles.size(); ++r) {
    p.Print({{"R", model.roles[r].type_name}, {"i", std::to_string(r)}, {"sep", r ? ", " : " "}},
            "$sep$k$R$ = $i$");
  }
  p.Print(" };\n\n");
  p.Print(
      "// The contract's metadata for the runtime.\n"
      "static const superline::ContractInfo& info();\n"
      "// Admits a connection with `role`; return it from the server's authenticator.\n"
      "static superline::Admission admit(Role role, std::any ctx = {}, std::string user_id = {}) {\n"
      "  superline::Admission admission;\n"
      "  admission.role = static_cast<int>(role);\n"
      "  admission.ctx = std::move(ctx);\n"
      "  admission.user_id = std::move(user_id);\n"
      "  return admission;\n"
      "}\n");
  bool any_env = false;
  for (const RoleModel& role : model.roles) any_env = any_env || role.env != nullptr;
  if (any_env) {
    p.Print(
      "// The same, with the connection's first env: R's env message (R a role tag with an Env).\n"
      "template <class R>\n"
      "static superline::Admission admit(R, typename R::Env env, std::any ctx = {}, std::string user_id = {}) {\n"
      "  superline::Admission admission = admit(R::kRole, std::move(ctx), std::move(user_id));\n"
      "  admission.env = std::make_shared<const typename R::Env>(std::move(env));\n"
      "  return admission;\n"
      "}\n");
  }

  for (size_t r = 0; r < model.roles.size(); ++r) {
    const RoleModel& role = model.roles[r];
    p.Print({{"role", role.name}}, "\n// Role \"$role$\".\n");
    PrintComments(p, role.service);
    p.Print({{"R", role.type_name}, {"i", std::to_string(r)}},
            "struct $R$ {\n"
            "  static constexpr Role kRole = Role::k$R$;\n"
            "  static constexpr int kRoleIndex = $i$;\n");
    p.Indent();
    for (const MethodModel& m : role.methods) {
      p.Print("\n");
      PrintTag(p, m, static_cast<int>(r));
    }
    if (role.env != nullptr) {
      p.Print({{"env", CppType(role.env)}},
              "\n// The connection's env in this role: set at admission, conn.set_env, to_conn(id).set_env.\n"
              "using Env = $env$;\n");
    }
    p.Print("\n");
    PrintHandlerInterface(p, role);
    PrintClientHandlerInterface(p, model, role);
    p.Outdent();
    p.Print({{"R", role.type_name}}, "};\nstatic constexpr $R$ k$R${};\n");
  }

  if (!model.server_events.empty()) {
    p.Print(
        "\n// Node-to-node events: emit_server sends them to every other node.\n"
        "struct ServerToServer {\n");
    p.Indent();
    for (size_t i = 0; i < model.server_events.size(); ++i) {
      if (i) p.Print("\n");
      PrintTag(p, model.server_events[i], -1);
    }
    p.Print(
        "\n"
        "// Handlers of the node-to-node events other nodes send.\n"
        "class Handlers {\n"
        " public:\n"
        "  virtual ~Handlers() = default;\n");
    p.Indent();
    for (const MethodModel& m : model.server_events) {
      p.Print("\n");
      PrintComments(p, m.method);
      p.Print({{"handler", m.handler_name}, {"payload", CppType(m.payload)}},
              "virtual void $handler$(const $payload$& event, std::string_view from_node) = 0;\n");
    }
    p.Outdent();
    p.Print("};\n");
    p.Outdent();
    p.Print("};\n");
  }

  p.Print(vars,
          "\n"
          "// Everything a $Contract$ server implements: the handlers of every role. A handler missing\n"
          "// from the implementation is a compile error naming it.\n"
          "class Handlers");
  for (size_t r = 0; r < model.roles.size(); ++r) {
    p.Print({{"R", model.roles[r].type_name}, {"sep", r ? ", " : " : "}}, "$sep$public $R$::Handlers");
  }
  if (!model.server_events.empty()) p.Print(", public ServerToServer::Handlers");
  p.Print(vars,
          " {\n"
          " protected:\n"
          "  // The server these handlers were given to.\n"
          "  $Contract$Server& server() const { return *bound_server_; }\n"
          "\n"
          " private:\n"
          "  friend class $Contract$Server;\n"
          "  $Contract$Server* bound_server_ = nullptr;\n"
          "};\n"
          "\n"
          "// Dispatch ids of requests and client events.\n"
          "enum class Method {");
  for (size_t i = 0; i < table.size(); ++i) {
    p.Print({{"e", table[i].enumerator}, {"sep", i ? ", " : " "}}, "$sep$$e$");
  }
  p.Print(
      " };\n"
      "static void dispatch(Handlers& handlers, superline::internal::Inbound& inbound);\n");
  p.Outdent();
  p.Print(
      vars,
      "};\n"
      "\n"
      "// A $Contract$ server: give it the handlers, then serve it with a transport\n"
      "// (superline::WebSocketServer).\n"
      "class $Contract$Server : public superline::ContractServer<$Contract$> {\n"
      " public:\n"
      "  explicit $Contract$Server($Contract$::Handlers& handlers, superline::ServerOptions options = {},\n"
      "                            std::shared_ptr<superline::Adapter> adapter = nullptr);\n"
      "};\n");

  // Clients: the shared calls once, in a mixin every role's client derives from.
  p.Print(vars,
          "\n"
          "// Calls every client has, whatever its role: the shared requests and client events.\n"
          "template <class Base>\n"
          "class $Contract$SharedCalls : public Base {\n"
          " public:\n"
          "  using Base::Base;\n");
  p.Indent();
  PrintClientMethods(p, model, model.roles[0]);
  p.Outdent();
  p.Print("};\n");
  for (const RoleModel& role : model.roles) {
    Vars cv = {{"Contract", model.name}, {"R", role.type_name}, {"role", role.name}};
    p.Print(cv,
            "\n"
            "// A client connecting as role \"$role$\".\n"
            "class $Contract$$R$Client\n"
            "    : public $Contract$SharedCalls<superline::ContractClient<$Contract$, $Contract$::$R$>> {\n"
            " public:\n");
    if (!AnswersServerRequests(model, role)) {
      p.Print(cv, "  using $Contract$SharedCalls::$Contract$SharedCalls;\n");
    } else {
      // The server's requests are answered by `handlers`, which must outlive the client.
      p.Print(cv,
              "  $Contract$$R$Client(superline::ClientOptions options, $Contract$::$R$::ClientHandlers& handlers)\n"
              "      : $Contract$SharedCalls(std::move(options)) {\n");
      for (const RoleModel* owner : {&model.roles[0], &role}) {
        for (const MethodModel& m : owner->methods) {
          if (m.kind != MethodKind::kServerRequest) continue;
          p.Print({{"Contract", model.name}, {"S", owner->type_name}, {"Tag", m.tag_name}, {"fn", m.client_name},
                   {"payload", CppType(m.payload)}},
                  "    this->answer($Contract$::$S$::k$Tag$,\n"
                  "                 [&handlers](const $payload$& request) { return handlers.$fn$(request); });\n");
        }
        if (owner == &role) break;
      }
      p.Print("  }\n");
    }
    if (&role != &model.roles[0]) {
      p.Indent();
      PrintClientMethods(p, model, role);
      p.Outdent();
    }
    p.Print("};\n");
  }

  p.Print("\n");
  for (auto it = model.namespaces.rbegin(); it != model.namespaces.rend(); ++it) {
    p.Print({{"ns", *it}}, "}  // namespace $ns$\n");
  }
}

void PrintSource(Printer& p, const ContractModel& model, const std::string& stem) {
  const std::vector<Dispatchable> table = DispatchTable(model);
  Vars vars = {{"source", model.file->name()}, {"stem", stem}, {"Contract", model.name}, {"id", ContractId(model)}};
  p.Print(vars,
          "// Generated by protoc-gen-superline. DO NOT EDIT.\n"
          "// source: $source$\n"
          "#include \"$stem$.superline.h\"\n"
          "\n");
  for (const std::string& ns : model.namespaces) p.Print({{"ns", ns}}, "namespace $ns$ {\n");
  p.Print(vars,
          "\n"
          "const superline::ContractInfo& $Contract$::info() {\n"
          "  static const superline::ContractInfo* const info = new superline::ContractInfo{\n"
          "      \"$Contract$\",\n"
          "      \"$id$\",\n"
          "      {");
  for (size_t r = 0; r < model.roles.size(); ++r) {
    p.Print({{"role", model.roles[r].name}, {"sep", r ? ", " : ""}}, "$sep$\"$role$\"");
  }
  p.Print("},\n      {\n");
  auto print_method = [&](const MethodModel& m, int role_index) {
    const int id = DispatchId(table, m);
    Vars mv = {{"name", m.wire_name},
               {"kind", KindName(m.kind)},
               {"role", std::to_string(role_index)},
               {"id", std::to_string(id)},
               {"payload", CppType(m.payload)},
               {"reply", m.reply ? "&" + CppType(m.reply) + "::default_instance()" : "nullptr"}};
    p.Print(mv,
            "          {\"$name$\", superline::MethodKind::$kind$, $role$, $id$, "
            "&$payload$::default_instance(),\n"
            "           $reply$},\n");
  };
  for (size_t r = 0; r < model.roles.size(); ++r) {
    for (const MethodModel& m : model.roles[r].methods) print_method(m, static_cast<int>(r));
  }
  for (const MethodModel& m : model.server_events) print_method(m, -1);
  p.Print("      },\n      {");
  for (size_t r = 0; r < model.roles.size(); ++r) {
    const Descriptor* env = model.roles[r].env;
    p.Print({{"env", env ? "&" + CppType(env) + "::default_instance()" : "nullptr"}, {"sep", r ? ", " : ""}},
            "$sep$$env$");
  }
  p.Print(vars,
          "}};\n"
          "  return *info;\n"
          "}\n"
          "\n"
          "void $Contract$::dispatch(Handlers& handlers, superline::internal::Inbound& inbound) {\n"
          "  switch (static_cast<Method>(inbound.dispatch)) {\n");
  p.Indent();
  p.Indent();
  for (const Dispatchable& d : table) {
    const MethodModel& m = *d.method;
    Vars mv = {{"e", d.enumerator},
               {"R", d.role->type_name},
               {"fn", m.handler_name},
               {"payload", CppType(m.payload)}};
    if (m.kind == MethodKind::kRequest) {
      mv["reply"] = CppType(m.reply);
      p.Print(mv,
              "case Method::$e$: {\n"
              "  superline::Call<$reply$, $R$> call(inbound);\n"
              "  inbound.finish(static_cast<$R$::Handlers&>(handlers).$fn$(\n"
              "      call, inbound.input_as<$payload$>()));\n"
              "  return;\n"
              "}\n");
    } else {
      p.Print(mv,
              "case Method::$e$:\n"
              "  static_cast<$R$::Handlers&>(handlers).$fn$(superline::RoleConn<$R$>(*inbound.conn),\n"
              "                                            inbound.input_as<$payload$>());\n"
              "  return;\n");
    }
  }
  p.Outdent();
  p.Outdent();
  p.Print(
      vars,
      "  }\n"
      "}\n"
      "\n"
      "$Contract$Server::$Contract$Server($Contract$::Handlers& handlers, superline::ServerOptions options,\n"
      "                                  std::shared_ptr<superline::Adapter> adapter)\n"
      "    : ContractServer([&handlers](superline::internal::Inbound& inbound) {\n"
      "        $Contract$::dispatch(handlers, inbound);\n"
      "      }, std::move(options), std::move(adapter)) {\n"
      "  handlers.bound_server_ = this;\n");
  for (const MethodModel& m : model.server_events) {
    Vars mv = vars;
    mv["T"] = m.tag_name;
    mv["fn"] = m.handler_name;
    mv["payload"] = CppType(m.payload);
    p.Print(mv,
            "  on_server($Contract$::ServerToServer::k$T$, [&handlers](const $payload$& event, std::string_view from) {\n"
            "    static_cast<$Contract$::ServerToServer::Handlers&>(handlers).$fn$(event, from);\n"
            "  });\n");
  }
  p.Print("}\n\n");
  for (auto it = model.namespaces.rbegin(); it != model.namespaces.rend(); ++it) {
    p.Print({{"ns", *it}}, "}  // namespace $ns$\n");
  }
}

}  // namespace

bool Generator::Generate(const FileDescriptor* file, const std::string& parameter,
                         google::protobuf::compiler::GeneratorContext* context, std::string* error) const {
  // protoc puts the file's name before the error.
  bool typescript = false;
  if (parameter == "lang=ts") {
    typescript = true;
  } else if (!parameter.empty() && parameter != "lang=cpp") {
    *error = "protoc-gen-superline takes lang=cpp (the default) or lang=ts (got \"" + parameter + "\")";
    return false;
  }
  ContractModel model;
  if (!BuildContractModel(file, &model, error)) return false;
  if (model.roles[0].methods.empty() && model.roles.size() == 1 && model.server_events.empty()) {
    *error =
        "no contract services (a service with option (superline.role) or (superline.server_to_server)); "
        "a file of messages only is not a contract: list it under MESSAGES in superline_generate(), or "
        "leave it to protoc's --cpp_out";
    return false;
  }
  const std::string stem = StripProto(file->name());
  if (typescript) {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(context->Open(stem + ".superline.ts"));
    Printer printer(out.get(), '$');
    PrintTypeScript(printer, model);
    return true;
  }
  {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(context->Open(stem + ".superline.h"));
    Printer printer(out.get(), '$');
    PrintHeader(printer, model, stem);
  }
  {
    std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(context->Open(stem + ".superline.cc"));
    Printer printer(out.get(), '$');
    PrintSource(printer, model, stem);
  }
  return true;
}

}  // namespace superline::codegen
