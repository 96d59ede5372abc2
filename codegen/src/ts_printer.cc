#include "ts_printer.h"

#include <cctype>
#include <map>
#include <set>
#include <vector>

#include "contract_id.h"
#include "print_util.h"

namespace superline::codegen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::io::Printer;
using Vars = std::map<std::string, std::string>;

// protoc-gen-es's safeIdentifier(): names it suffixes with '$' (@bufbuild/protoplugin).
std::string SafeIdentifier(const std::string& name) {
  static const std::set<std::string> kReserved = {
      "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
      "else", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
      "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try",
      "typeof", "var", "void", "while", "with", "yield", "enum", "implements", "interface", "let",
      "package", "private", "protected", "public", "static", "Object", "bigint", "number", "boolean",
      "string", "object", "globalThis", "Uint8Array", "Partial"};
  return kReserved.count(name) > 0 ? name + "$" : name;
}

// protoc-gen-es's identifier for a message: its name inside the package, '.' -> '_'
// (Envelope.Header -> Envelope_Header).
std::string EsIdentifier(const Descriptor* d) {
  const std::string& pkg = d->file()->package();
  std::string name = d->full_name().substr(pkg.empty() ? 0 : pkg.size() + 1);
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
}

bool IsWellKnown(const FileDescriptor* f) { return f->name().rfind("google/protobuf/", 0) == 0; }

// "../../acme/common_pb.js" for acme/common.proto seen from game/v1/game.proto.
std::string RelativeModule(const std::string& from_file, const std::string& to_file) {
  auto dirs = [](const std::string& path) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
      out.push_back(path.substr(start, slash - start));
    }
    return out;
  };
  const std::vector<std::string> from = dirs(from_file), to = dirs(to_file);
  size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (size_t i = common; i < from.size(); ++i) out += "../";
  if (out.empty()) out = "./";
  for (size_t i = common; i < to.size(); ++i) out += to[i] + "/";
  const size_t base = to_file.rfind('/');
  return out + StripProto(base == std::string::npos ? to_file : to_file.substr(base + 1)) + "_pb.js";
}

// How the printed module names each imported _pb file: a namespace import, so no message name can
// meet a generated one.
class Imports {
 public:
  explicit Imports(const FileDescriptor* contract) : contract_(contract) {}

  void use(const Descriptor* d) { files_.insert(d->file()); }

  std::string alias(const FileDescriptor* f) const {
    if (IsWellKnown(f)) return "wkt";
    std::string out = "pb_";
    for (char c : StripProto(f->name())) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
  }
  std::string shape(const Descriptor* d) const { return alias(d->file()) + "." + SafeIdentifier(EsIdentifier(d)); }
  std::string schema(const Descriptor* d) const {
    return alias(d->file()) + "." + SafeIdentifier(EsIdentifier(d) + "Schema");
  }

  void print(Printer& p) const {
    std::map<std::string, std::string> lines;  // by module, for a stable order
    for (const FileDescriptor* f : files_) {
      const std::string module = IsWellKnown(f) ? "@bufbuild/protobuf/wkt" : RelativeModule(contract_->name(), f->name());
      lines[module] = alias(f);
    }
    for (const auto& [module, alias] : lines) {
      p.Print({{"alias", alias}, {"module", module}}, "import * as $alias$ from \"$module$\";\n");
    }
  }

 private:
  const FileDescriptor* contract_;
  std::set<const FileDescriptor*> files_;
};

bool HasKind(const RoleModel& role, MethodKind kind) {
  for (const MethodModel& m : role.methods) {
    if (m.kind == kind) return true;
  }
  return false;
}

template <class D>
void PrintDoc(Printer& p, const D* descriptor) {
  const std::vector<std::string> lines = LeadingComments(descriptor);
  if (lines.empty()) return;
  p.Print("/**\n");
  for (std::string line : lines) {
    for (size_t at; (at = line.find("*/")) != std::string::npos;) line.replace(at, 2, "*\\/");
    p.Print({{"line", line}}, line.empty() ? " *\n" : " * $line$\n");
  }
  p.Print(" */\n");
}

// The interface of a role's server events or topics (wire name -> payload), extending shared's.
void PrintMap(Printer& p, const ContractModel& model, const RoleModel& role, MethodKind kind, const char* what,
              const Imports& imports) {
  Vars vars = {{"C", model.name}, {"R", role.type_name}, {"what", what}, {"role", role.name}};
  const bool shared = &role == &model.roles[0];
  p.Print(vars, shared ? "export interface $C$$R$$what$ {" : "export interface $C$$R$$what$ extends $C$Shared$what$ {");
  p.Indent();
  bool any = false;
  for (const MethodModel& m : role.methods) {
    if (m.kind != kind) continue;
    if (!any) p.Print("\n");
    any = true;
    PrintDoc(p, m.method);
    p.Print({{"name", m.wire_name}, {"type", imports.shape(m.payload)}}, "$name$: $type$;\n");
  }
  p.Outdent();
  p.Print("}\n\n");
}

void PrintSurface(Printer& p, const ContractModel& model, const RoleModel& role, const Imports& imports,
                  const std::string& contract_id) {
  const bool shared = &role == &model.roles[0];
  p.Print({{"C", model.name}, {"R", role.type_name}, {"role", role.name}},
          "/** Every name role \"$role$\" may use, with its payload schemas (what $C$$R$Client runs on). */\n"
          "export const $C$$R$Surface: Surface = {\n");
  p.Indent();
  p.Print({{"id", contract_id}}, "contract: \"$id$\",\n");
  // One section per kind; a role that adds nothing to one shares shared's object.
  auto section = [&](const char* name, MethodKind kind) {
    Vars vars = {{"name", name}, {"C", model.name}};
    bool own = false;
    for (const MethodModel& m : role.methods) own = own || m.kind == kind;
    if (kind == MethodKind::kServerRequest && !own && !HasKind(model.roles[0], kind)) return;  // printed when any
    if (!shared && !own) return p.Print(vars, "$name$: $C$SharedSurface.$name$,\n");
    if (!own) return p.Print(vars, "$name$: {},\n");  // shared's, empty
    p.Print(vars, "$name$: {\n");
    p.Indent();
    if (!shared) p.Print(vars, "...$C$SharedSurface.$name$,\n");
    for (const MethodModel& m : role.methods) {
      if (m.kind != kind) continue;
      if (m.reply != nullptr) {
        p.Print({{"name", m.wire_name}, {"in", imports.schema(m.payload)}, {"out", imports.schema(m.reply)}},
                "$name$: { input: $in$, output: $out$ },\n");
      } else {
        p.Print({{"name", m.wire_name}, {"schema", imports.schema(m.payload)}}, "$name$: $schema$,\n");
      }
    }
    p.Outdent();
    p.Print("},\n");
  };
  section("requests", MethodKind::kRequest);
  section("clientEvents", MethodKind::kClientEvent);
  section("events", MethodKind::kEvent);
  section("topics", MethodKind::kTopic);
  section("serverRequests", MethodKind::kServerRequest);
  if (role.env != nullptr) p.Print({{"schema", imports.schema(role.env)}}, "env: $schema$,\n");
  p.Outdent();
  p.Print("};\n\n");
}

// What a client of the role implements to answer the server's requests: shared's, extended.
void PrintClientHandlers(Printer& p, const ContractModel& model, const RoleModel& role, const Imports& imports) {
  const RoleModel& shared = model.roles[0];
  const bool own = HasKind(role, MethodKind::kServerRequest);
  if (!own && !HasKind(shared, MethodKind::kServerRequest)) return;
  Vars vars = {{"C", model.name}, {"R", role.type_name}, {"role", role.name}};
  p.Print(vars, "/** What a client of role \"$role$\" answers the server's requests with (sreq -> sres/serr). */\n");
  if (&role != &shared && !own) {
    p.Print(vars, "export type $C$$R$ClientHandlers = $C$SharedClientHandlers;\n\n");
    return;
  }
  p.Print(vars, &role != &shared && HasKind(shared, MethodKind::kServerRequest)
                    ? "export interface $C$$R$ClientHandlers extends $C$SharedClientHandlers {\n"
                    : "export interface $C$$R$ClientHandlers {\n");
  p.Indent();
  for (const MethodModel& m : role.methods) {
    if (m.kind != MethodKind::kServerRequest) continue;
    PrintDoc(p, m.method);
    p.Print({{"fn", m.wire_name}, {"in", imports.shape(m.payload)}, {"out", imports.schema(m.reply)}},
            "$fn$(input: $in$): MessageInitShape<typeof $out$> | Promise<MessageInitShape<typeof $out$>>;\n");
  }
  p.Outdent();
  p.Print("}\n\n");
}

void PrintCalls(Printer& p, const RoleModel& role, const Imports& imports) {
  for (const MethodModel& m : role.methods) {
    Vars vars = {{"fn", m.ts_name}, {"name", m.wire_name}, {"in", imports.schema(m.payload)}};
    if (m.kind == MethodKind::kRequest) {
      p.Print("\n");
      PrintDoc(p, m.method);
      vars["out"] = imports.shape(m.reply);
      p.Print(vars,
              "$fn$(input: MessageInitShape<typeof $in$>, options?: CallOptions): Promise<$out$> {\n"
              "  return this.$$request(\"$name$\", input, options);\n"
              "}\n");
    } else if (m.kind == MethodKind::kClientEvent) {
      p.Print("\n");
      PrintDoc(p, m.method);
      p.Print(vars,
              "$fn$(input: MessageInitShape<typeof $in$>): void {\n"
              "  this.$$emit(\"$name$\", input);\n"
              "}\n");
    }
  }
}

}  // namespace

void PrintTypeScript(Printer& p, const ContractModel& model) {
  Imports imports(model.file);
  for (const RoleModel& role : model.roles) {
    for (const MethodModel& m : role.methods) {
      imports.use(m.payload);
      if (m.reply != nullptr) imports.use(m.reply);
    }
    if (role.env != nullptr) imports.use(role.env);
  }
  Vars vars = {{"C", model.name}, {"file", model.file->name()}};
  p.Print(vars,
          "// @generated by protoc-gen-superline (lang=ts) from $file$. Do not edit: regenerate.\n"
          "// One client class per role of contract $C$, each exposing exactly shared and its own role's\n"
          "// requests, client events, server events and topics. Payload types come from protoc-gen-es.\n"
          "import type { MessageInitShape } from \"@bufbuild/protobuf\";\n"
          "import { ContractClient, type CallOptions, type ClientOptions, type Surface } from \"@superline/client\";\n");
  imports.print(p);
  p.Print("\nexport { SuperlineError } from \"@superline/client\";\n"
          "export type { CallOptions, ClientOptions, Subscription } from \"@superline/client\";\n\n");

  for (const RoleModel& role : model.roles) {
    p.Print({{"role", role.name}}, "// Role \"$role$\": server events and topics, by wire name.\n");
    PrintMap(p, model, role, MethodKind::kEvent, "Events", imports);
    PrintMap(p, model, role, MethodKind::kTopic, "Topics", imports);
  }
  const std::string contract_id = ContractId(model);  // a SHA-256 over the descriptors: once per file
  for (const RoleModel& role : model.roles) PrintSurface(p, model, role, imports, contract_id);
  for (const RoleModel& role : model.roles) PrintClientHandlers(p, model, role, imports);

  const RoleModel& shared = model.roles[0];
  p.Print(vars,
          "/** What every role can call: role \"shared\"'s requests and client events. */\n"
          "export abstract class $C$SharedCalls<E extends $C$SharedEvents, T extends $C$SharedTopics, V = null> extends "
          "ContractClient<E, T, V> {");
  p.Indent();
  PrintCalls(p, shared, imports);
  p.Outdent();
  p.Print("}\n");
  for (const RoleModel& role : model.roles) {
    Vars rv = {{"C", model.name}, {"R", role.type_name}, {"role", role.name}};
    p.Print("\n");
    if (role.service != nullptr && !LeadingComments(role.service).empty()) {
      PrintDoc(p, role.service);
    } else {
      p.Print(rv, "/** A client connecting as role \"$role$\". */\n");
    }
    rv["env"] = role.env != nullptr ? ", " + imports.shape(role.env) : "";
    const bool answers = HasKind(role, MethodKind::kServerRequest) || HasKind(shared, MethodKind::kServerRequest);
    p.Print(rv, "export class $C$$R$Client extends $C$SharedCalls<$C$$R$Events, $C$$R$Topics$env$> {\n");
    p.Print(rv, answers ? "  constructor(options: ClientOptions, handlers: $C$$R$ClientHandlers) {\n"
                          "    super(options, \"$role$\", $C$$R$Surface, handlers);\n"
                          "  }\n"
                        : "  constructor(options: ClientOptions) {\n"
                          "    super(options, \"$role$\", $C$$R$Surface);\n"
                          "  }\n");
    if (&role != &shared) {
      p.Indent();
      PrintCalls(p, role, imports);
      p.Outdent();
    }
    p.Print("}\n");
  }
}

}  // namespace superline::codegen
