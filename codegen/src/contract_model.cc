#include "contract_model.h"

#include <cctype>
#include <map>
#include <vector>
#include <set>

#include "names.h"
#include "superline/options.pb.h"

namespace superline::codegen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr char kEmpty[] = "google.protobuf.Empty";
constexpr char kShared[] = "shared";

// Names the generated code itself uses inside the contract struct; a role must not take them.
const std::set<std::string>& ReservedTypeNames() {
  static const std::set<std::string> names = {"Role",   "Handlers", "ServerToServer",
                                              "Method", "Server",   "Info"};
  return names;
}

// Where in the file an error is. protoc puts the file's name before every error a generator
// reports (CodeGenerator::GenerateAll), so it is not repeated here.
std::string Where(const ServiceDescriptor* service, const MethodDescriptor* method) {
  std::string where;
  if (service != nullptr) where += "service " + service->full_name();
  if (method != nullptr) where += ", method " + method->name();
  return where;
}

bool Fail(std::string* error, const std::string& where, const std::string& what) {
  *error = where.empty() ? what : where + ": " + what;
  return false;
}

bool IsEmpty(const Descriptor* d) { return d->full_name() == kEmpty; }

bool IsValidRoleName(const std::string& name) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Reads one rpc of a role service into *out.
bool ReadRoleMethod(const FileDescriptor* file, const ServiceDescriptor* service,
                    const MethodDescriptor* method, MethodModel* out, std::string* error) {
  const bool topic = method->options().GetExtension(superline::topic);
  out->method = method;
  out->wire_name = LowerFirst(method->name());
  out->handler_name = SnakeCase(method->name());
  out->client_name = EscapeCppName(SnakeCase(method->name()));
  out->ts_name = EscapeTsName(out->wire_name);
  out->tag_name = method->name();
  const bool in_stream = method->client_streaming();
  const bool out_stream = method->server_streaming();
  const std::string where = Where(service, method);
  if (IsRoleStructMember(out->tag_name)) {
    return Fail(error, where,
                "rpc " + method->name() + " would name a tag type like the generated member " +
                    (out->tag_name == "Role" || out->tag_name == "RoleIndex" ? "k" + out->tag_name : out->tag_name) +
                    " of the role's struct; rename it");
  }

  const bool server_request = method->options().GetExtension(superline::server_request);
  if (server_request && (in_stream || out_stream || topic)) {
    return Fail(error, where,
                "option (superline.server_request) applies only to a unary rpc "
                "(rpc X(Request) returns (Reply)) without (superline.topic)");
  }
  if (!in_stream && !out_stream) {
    out->kind = server_request ? MethodKind::kServerRequest : MethodKind::kRequest;
    out->payload = method->input_type();
    out->reply = method->output_type();
  } else if (in_stream && !out_stream) {
    if (!IsEmpty(method->output_type())) {
      return Fail(error, where,
                  "a client event (stream input) must return google.protobuf.Empty, not " +
                      method->output_type()->full_name());
    }
    out->kind = MethodKind::kClientEvent;
    out->payload = method->input_type();
  } else if (!in_stream && out_stream) {
    if (!IsEmpty(method->input_type())) {
      return Fail(error, where,
                  "a server event or topic (stream output) must take google.protobuf.Empty, not " +
                      method->input_type()->full_name() + " (parameterized topics are not supported yet)");
    }
    out->kind = topic ? MethodKind::kTopic : MethodKind::kEvent;
    out->payload = method->output_type();
  } else {
    return Fail(error, where,
                "streaming in both directions is not a shape superline knows; use a request, a "
                "client event (stream input) or a server event (stream output)");
  }
  if (topic && out->kind != MethodKind::kTopic) {
    return Fail(error, where,
                "option (superline.topic) applies only to server events "
                "(rpc X(google.protobuf.Empty) returns (stream M))");
  }
  return true;
}

// A message named in an option: relative to the file's package first, then fully qualified.
const Descriptor* FindMessage(const FileDescriptor* file, const std::string& name) {
  const auto* pool = file->pool();
  if (!file->package().empty()) {
    if (const Descriptor* d = pool->FindMessageTypeByName(file->package() + "." + name)) return d;
  }
  return pool->FindMessageTypeByName(name.rfind('.', 0) == 0 ? name.substr(1) : name);
}

bool IsNumeric(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return true;
    default:
      return false;
  }
}

std::string FieldKind(const FieldDescriptor* f) {
  if (f->is_map()) return "a map";
  std::string type = f->message_type() != nullptr ? f->message_type()->full_name()
                     : f->enum_type() != nullptr  ? f->enum_type()->full_name()
                                                  : f->type_name();
  if (f->is_repeated()) return "a repeated " + type + " field";
  return (std::string("aeiou").find(type[0]) != std::string::npos ? "an " : "a ") + type + " field";
}

// The constraint options of one field: each only where it means something.
bool CheckFieldConstraints(const FieldDescriptor* f, std::string* error) {
  const auto& o = f->options();
  const std::string where = "field " + f->full_name();
  const bool text = f->type() == FieldDescriptor::TYPE_STRING || f->type() == FieldDescriptor::TYPE_BYTES;
  auto refuse = [&](const char* option, const char* applies) {
    return Fail(error, where,
                std::string("option (superline.") + option + ") applies to " + applies + ", not " + FieldKind(f));
  };
  if ((o.HasExtension(superline::min_len) || o.HasExtension(superline::max_len)) && (!text || f->is_map())) {
    return refuse(o.HasExtension(superline::min_len) ? "min_len" : "max_len", "string and bytes fields");
  }
  if ((o.HasExtension(superline::min) || o.HasExtension(superline::max)) && (!IsNumeric(f) || f->is_map())) {
    return refuse(o.HasExtension(superline::min) ? "min" : "max", "numeric fields (integers, float, double)");
  }
  if (o.HasExtension(superline::max_items) && !f->is_repeated()) {
    return refuse("max_items", "repeated fields and maps");
  }
  if (o.HasExtension(superline::min_len) && o.HasExtension(superline::max_len) &&
      o.GetExtension(superline::min_len) > o.GetExtension(superline::max_len)) {
    return Fail(error, where, "option (superline.min_len) is greater than (superline.max_len): no value fits");
  }
  if (o.HasExtension(superline::min) && o.HasExtension(superline::max) &&
      !(o.GetExtension(superline::min) <= o.GetExtension(superline::max))) {
    return Fail(error, where, "option (superline.min) is greater than (superline.max): no value fits");
  }
  return true;
}

// Every message the contract's methods carry, and every message inside them.
bool CheckConstraints(const Descriptor* d, std::set<const Descriptor*>* seen, std::string* error) {
  if (d == nullptr || !seen->insert(d).second) return true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (!CheckFieldConstraints(f, error)) return false;
    const Descriptor* inner = f->is_map() ? f->message_type()->map_value()->message_type() : f->message_type();
    if (!CheckConstraints(inner, seen, error)) return false;
  }
  return true;
}

}  // namespace

std::string LowerFirst(const std::string& name) {
  std::string out = name;
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

std::string SnakeCase(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (std::isupper(c)) {
      const bool prev_lower = i > 0 && (std::islower(static_cast<unsigned char>(name[i - 1])) ||
                                        std::isdigit(static_cast<unsigned char>(name[i - 1])));
      const bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
      const bool prev_upper = i > 0 && std::isupper(static_cast<unsigned char>(name[i - 1]));
      if (!out.empty() && out.back() != '_' && (prev_lower || (prev_upper && next_lower))) {
        out += '_';
      }
      out += static_cast<char>(std::tolower(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string PascalCase(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_' || c == '-' || c == '.') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

bool BuildContractModel(const FileDescriptor* file, ContractModel* model, std::string* error) {
  model->file = file;
  model->roles.clear();
  model->server_events.clear();

  std::string contract = file->options().GetExtension(superline::contract);
  if (contract.empty()) {
    std::string base = file->name();
    if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
    if (auto dot = base.rfind(".proto"); dot != std::string::npos) base = base.substr(0, dot);
    contract = PascalCase(base);
  }
  if (!IsValidRoleName(contract)) {
    return Fail(error, {},
                "option (superline.contract) \"" + contract + "\" is not a valid C++ identifier");
  }
  model->name = contract;
  if (file->FindMessageTypeByName(contract) != nullptr || file->FindEnumTypeByName(contract) != nullptr ||
      file->FindServiceByName(contract) != nullptr) {
    return Fail(error, {},
                "the contract name \"" + contract +
                    "\" is also a message, enum or service in this file; rename it with option "
                    "(superline.contract)");
  }
  model->namespaces.clear();
  std::string pkg = file->package();
  for (size_t start = 0; !pkg.empty();) {
    size_t dot = pkg.find('.', start);
    model->namespaces.push_back(pkg.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }

  model->roles.push_back(RoleModel{nullptr, kShared, "Shared", {}});
  std::map<std::string, const ServiceDescriptor*> role_services;

  for (int s = 0; s < file->service_count(); ++s) {
    const ServiceDescriptor* service = file->service(s);
    const auto& options = service->options();
    const bool has_role = options.HasExtension(superline::role);
    const bool s2s = options.GetExtension(superline::server_to_server);
    if (has_role && s2s) {
      return Fail(error, Where(service, nullptr),
                  "options (superline.role) and (superline.server_to_server) are exclusive");
    }
    if (!has_role && !s2s) {
      return Fail(error, Where(service, nullptr),
                  "a contract service needs option (superline.role) = \"<role>\" or option "
                  "(superline.server_to_server) = true");
    }

    if (s2s && options.HasExtension(superline::env)) {
      return Fail(error, Where(service, nullptr), "option (superline.env) belongs on a role's service");
    }
    if (s2s) {
      for (int m = 0; m < service->method_count(); ++m) {
        const MethodDescriptor* method = service->method(m);
        const bool shape_ok =
            method->client_streaming() && !method->server_streaming() && IsEmpty(method->output_type());
        if (!shape_ok || method->options().GetExtension(superline::topic) ||
            method->options().GetExtension(superline::server_request)) {
          return Fail(error, Where(service, method),
                      "a method of a (superline.server_to_server) service must be "
                      "`rpc " +
                          method->name() + "(stream M) returns (google.protobuf.Empty);`");
        }
        MethodModel mm;
        mm.method = method;
        mm.kind = MethodKind::kServerEvent;
        mm.wire_name = LowerFirst(method->name());
        mm.handler_name = EscapeCppName("on_" + SnakeCase(method->name()));
        mm.tag_name = method->name();
        mm.payload = method->input_type();
        for (const MethodModel& other : model->server_events) {
          if (other.wire_name == mm.wire_name) {
            return Fail(error, Where(service, method),
                        "server-to-server event \"" + mm.wire_name + "\" is defined twice (also in " +
                            other.method->service()->full_name() + ")");
          }
        }
        model->server_events.push_back(std::move(mm));
      }
      continue;
    }

    const std::string role = options.GetExtension(superline::role);
    if (!IsValidRoleName(role)) {
      return Fail(error, Where(service, nullptr),
                  "option (superline.role) = \"" + role +
                      "\" is not a valid role name (letters, digits and '_', starting with a letter)");
    }
    if (auto it = role_services.find(role); it != role_services.end()) {
      return Fail(error, Where(service, nullptr),
                  "option (superline.role) = \"" + role + "\" names a role already declared by service " +
                      it->second->full_name());
    }
    role_services[role] = service;
    const std::string type_name = PascalCase(role);
    if (ReservedTypeNames().count(type_name) != 0) {
      return Fail(error, Where(service, nullptr),
                  "option (superline.role) = \"" + role + "\" clashes with the generated name " + type_name);
    }

    RoleModel* target = nullptr;
    if (role == kShared) {
      target = &model->roles[0];
      target->service = service;
    } else {
      for (const RoleModel& r : model->roles) {
        if (r.type_name == type_name) {
          return Fail(error, Where(service, nullptr),
                      "option (superline.role) = \"" + role + "\" maps to the same C++ name " + type_name +
                          " as role \"" + r.name + "\"");
        }
      }
      model->roles.push_back(RoleModel{service, role, type_name, {}});
      target = &model->roles.back();
    }
    if (options.HasExtension(superline::env)) {
      const std::string& name = options.GetExtension(superline::env);
      target->env = FindMessage(file, name);
      if (target->env == nullptr) {
        return Fail(error, Where(service, nullptr),
                    "option (superline.env) = \"" + name + "\" names no message of this file or its imports " +
                        "(a name in this file's package, or a full name such as \"acme.UserEnv\")");
      }
    }
    for (int m = 0; m < service->method_count(); ++m) {
      MethodModel mm;
      if (!ReadRoleMethod(file, service, service->method(m), &mm, error)) return false;
      target->methods.push_back(std::move(mm));
    }
  }

  // A role without an env of its own has shared's.
  for (RoleModel& role : model->roles) {
    if (role.env == nullptr) role.env = model->roles[0].env;
  }

  // A name must mean one thing in each role's effective surface (shared + the role).
  const RoleModel& shared = model->roles[0];
  for (size_t r = 1; r < model->roles.size(); ++r) {
    const RoleModel& role = model->roles[r];
    for (const MethodModel& mine : role.methods) {
      for (const MethodModel& inherited : shared.methods) {
        if (mine.wire_name == inherited.wire_name) {
          return Fail(error, Where(role.service, mine.method),
                      "\"" + mine.wire_name + "\" is defined twice in role \"" + role.name +
                          "\"'s surface (also in shared service " + inherited.method->service()->full_name() +
                          ")");
        }
      }
    }
  }
  for (const RoleModel& role : model->roles) {
    std::set<std::string> seen;
    for (const MethodModel& m : role.methods) {
      if (!seen.insert(m.wire_name).second) {
        return Fail(error, Where(role.service, m.method),
                    "\"" + m.wire_name + "\" is defined twice in role \"" + role.name + "\"");
      }
    }
  }

  // Two roles may each declare a request of the same name; their handlers live side by side in
  // Contract::Handlers, so such handlers take the role as a prefix (user_send, agent_send).
  std::map<std::string, int> handler_uses;
  for (const RoleModel& role : model->roles) {
    for (const MethodModel& m : role.methods) ++handler_uses[m.handler_name];
  }
  for (size_t r = 1; r < model->roles.size(); ++r) {
    RoleModel& role = model->roles[r];
    for (MethodModel& m : role.methods) {
      if (handler_uses[m.handler_name] > 1) m.handler_name = SnakeCase(role.type_name) + "_" + m.handler_name;
    }
  }
  for (RoleModel& role : model->roles) {
    for (MethodModel& m : role.methods) m.handler_name = EscapeCppName(m.handler_name);
  }

  // Node-event handlers (on_<event>) live in Contract::Handlers beside the roles' handlers.
  for (const MethodModel& event : model->server_events) {
    for (const RoleModel& role : model->roles) {
      for (const MethodModel& m : role.methods) {
        if (m.handler_name == event.handler_name) {
          return Fail(error, Where(event.method->service(), event.method),
                      "the handler " + event.handler_name + "() of server-to-server event \"" + event.wire_name +
                          "\" would clash with the handler of rpc " + m.method->name() + " in role \"" + role.name +
                          "\"; rename one of them");
        }
      }
    }
  }

  // Constraints ((superline.required), min_len, ...) only where they apply, on every message the
  // contract carries and every message declared in its file.
  std::set<const Descriptor*> checked;
  for (const RoleModel& role : model->roles) {
    for (const MethodModel& m : role.methods) {
      if (!CheckConstraints(m.payload, &checked, error) || !CheckConstraints(m.reply, &checked, error)) return false;
    }
  }
  for (const MethodModel& m : model->server_events) {
    if (!CheckConstraints(m.payload, &checked, error)) return false;
  }
  for (const RoleModel& role : model->roles) {
    if (!CheckConstraints(role.env, &checked, error)) return false;
  }
  for (int i = 0; i < file->message_type_count(); ++i) {
    if (!CheckConstraints(file->message_type(i), &checked, error)) return false;
  }

  // A role's client has one method per request and client event of its surface, and async_<name>
  // per request: rpc Foo and rpc AsyncFoo would both make async_foo.
  for (const RoleModel& role : model->roles) {
    std::vector<const RoleModel*> surface = {&model->roles[0]};
    if (&role != &model->roles[0]) surface.push_back(&role);
    std::map<std::string, const MethodModel*> client_names;
    for (const RoleModel* owner : surface) {
      for (const MethodModel& m : owner->methods) {
        if (m.kind != MethodKind::kRequest && m.kind != MethodKind::kClientEvent) continue;
        std::vector<std::string> names = {m.client_name};
        if (m.kind == MethodKind::kRequest) names.push_back("async_" + m.client_name);
        for (const std::string& name : names) {
          auto [it, fresh] = client_names.emplace(name, &m);
          if (!fresh) {
            return Fail(error, Where(owner->service, m.method),
                        "the generated client method " + name + "() of role \"" + role.name +
                            "\" would be made twice (also for rpc " + it->second->method->name() +
                            "); rename one of them");
          }
        }
      }
    }
  }
  return true;
}

}  // namespace superline::codegen
