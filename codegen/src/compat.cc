#include "compat.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "superline/options.pb.h"

namespace superline::codegen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;

constexpr unsigned kAll = kWire | kJson | kSource;

const char* KindWords(MethodKind kind) {
  switch (kind) {
    case MethodKind::kRequest:
      return "request";
    case MethodKind::kClientEvent:
      return "client event";
    case MethodKind::kEvent:
      return "event";
    case MethodKind::kTopic:
      return "topic";
    case MethodKind::kServerEvent:
      return "server-to-server event";
    case MethodKind::kServerRequest:
      return "server request";
  }
  return "method";
}

const char* RemovedRule(MethodKind kind) {
  switch (kind) {
    case MethodKind::kRequest:
      return "REQUEST_REMOVED";
    case MethodKind::kClientEvent:
      return "CLIENT_EVENT_REMOVED";
    case MethodKind::kEvent:
      return "EVENT_REMOVED";
    case MethodKind::kTopic:
      return "TOPIC_REMOVED";
    case MethodKind::kServerEvent:
      return "SERVER_EVENT_REMOVED";
    case MethodKind::kServerRequest:
      return "SERVER_REQUEST_REMOVED";
  }
  return "METHOD_REMOVED";
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Describe(const MethodModel& m, const std::string& role) {
  std::string out = std::string(KindWords(m.kind)) + " " + Quote(m.wire_name);
  if (m.kind == MethodKind::kServerEvent) return out;
  return out + (role == "shared" ? " (shared)" : " of role " + Quote(role));
}

// The messages a peer sends in (requests, client events, node-to-node payloads) and every message
// their fields reach: where a tighter constraint refuses what an old peer still sends.
void CollectInbound(const Descriptor* d, std::set<std::string>* out) {
  if (d == nullptr || !out->insert(d->full_name()).second) return;
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->message_type() != nullptr) CollectInbound(d->field(i)->message_type(), out);
  }
}

// Field types whose encodings read each other's values (protobuf's "updating a message type" rules).
int WireGroup(FieldDescriptor::Type type) {
  switch (type) {
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_BOOL:
    case FieldDescriptor::TYPE_ENUM:
      return 1;
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SINT64:
      return 2;
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32:
      return 3;
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64:
      return 4;
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES:
      return 5;
    default:
      return 100 + static_cast<int>(type);
  }
}

// Field types the proto3 JSON mapping writes the same way: 32-bit integers as numbers, 64-bit ones
// as strings, floating point as numbers.
int JsonGroup(FieldDescriptor::Type type) {
  switch (type) {
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return 1;
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return 2;
    case FieldDescriptor::TYPE_FLOAT:
    case FieldDescriptor::TYPE_DOUBLE:
      return 3;
    default:
      return 100 + static_cast<int>(type);
  }
}

std::string TypeName(const FieldDescriptor* f) {
  if (f->message_type() != nullptr) return f->message_type()->full_name();
  if (f->enum_type() != nullptr) return f->enum_type()->full_name();
  return f->type_name();
}

// map, repeated, optional (explicit presence asked for) or singular.
std::string Cardinality(const FieldDescriptor* f) {
  if (f->is_map()) return "map";
  if (f->is_repeated()) return "repeated";
  if (f->has_optional_keyword()) return "optional";
  return "singular";
}

unsigned CardinalityBreaks(const std::string& from, const std::string& to) {
  const bool from_many = from == "map" || from == "repeated";
  const bool to_many = to == "map" || to == "repeated";
  if (from_many != to_many) return kAll;     // one value vs a list: neither wire reads the other
  if (from_many) return kJson | kSource;     // repeated entries vs a map: one binary encoding, two JSON
  return kSource;                            // optional vs singular: presence in the generated API
}

std::string OneofName(const FieldDescriptor* f) {
  const auto* oneof = f->real_containing_oneof();
  return oneof == nullptr ? std::string() : oneof->name();
}

std::string FieldWords(const FieldDescriptor* f) {
  return "field " + Quote(f->name()) + " (" + std::to_string(f->number()) + ") of " +
         f->containing_type()->full_name();
}

std::string Number(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

class Comparer {
 public:
  Comparer(const ContractModel& old_contract, const ContractModel& new_contract)
      : old_(old_contract), new_(new_contract) {}

  std::vector<Finding> Run() {
    if (old_.file->package() != new_.file->package() || old_.name != new_.name) {
      Report(new_.file, "CONTRACT_RENAMED", kSource,
             "contract " + Qualified(old_) + " is now " + Qualified(new_) +
                 " (the generated namespace and type names change)");
    }
    for (const RoleModel& role : new_.roles) {
      for (const MethodModel& m : role.methods) {
        if (m.kind == MethodKind::kRequest || m.kind == MethodKind::kClientEvent) CollectInbound(m.payload, &inbound_);
        if (m.kind == MethodKind::kServerRequest) CollectInbound(m.reply, &inbound_);  // the client answers
      }
    }
    for (const MethodModel& m : new_.server_events) CollectInbound(m.payload, &inbound_);

    for (const RoleModel& old_role : old_.roles) CompareRole(old_role);
    for (const MethodModel& m : old_.server_events) {
      const MethodModel* now = FindServerEvent(new_, m.wire_name);
      if (now == nullptr) {
        Report(m.method, "SERVER_EVENT_REMOVED", kWire | kSource,
               Describe(m, "") + " was removed or renamed (old nodes still emit it during a rolling deploy)");
        continue;
      }
      // Node-to-node payloads travel in protobuf's binary encoding only: no JSON to break.
      mask_ = kWire | kSource;
      CompareTypes(m, *now, "");
      mask_ = kAll;
    }
    return std::move(findings_);
  }

 private:
  static std::string Qualified(const ContractModel& c) {
    return c.file->package().empty() ? c.name : c.file->package() + "." + c.name;
  }

  // A message's name inside its contract's package: a package renamed (CONTRACT_RENAMED) does not
  // also report every message it holds.
  template <class D>
  static std::string Relative(const D* d, const ContractModel& c) {
    const std::string& pkg = c.file->package();
    if (!pkg.empty() && d->full_name().rfind(pkg + ".", 0) == 0) return d->full_name().substr(pkg.size() + 1);
    return d->full_name();
  }

  static const RoleModel* FindRole(const ContractModel& c, const std::string& name) {
    for (const RoleModel& r : c.roles) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }

  static const MethodModel* FindMethod(const RoleModel& role, const std::string& wire_name) {
    for (const MethodModel& m : role.methods) {
      if (m.wire_name == wire_name) return &m;
    }
    return nullptr;
  }

  static const MethodModel* FindServerEvent(const ContractModel& c, const std::string& wire_name) {
    for (const MethodModel& m : c.server_events) {
      if (m.wire_name == wire_name) return &m;
    }
    return nullptr;
  }

  template <class D>
  void Report(const D* where, std::string rule, unsigned breaks, std::string message) {
    breaks &= mask_;
    if (breaks == 0) return;
    Finding f;
    f.file = where->file()->name();
    google::protobuf::SourceLocation location;
    if (where->GetSourceLocation(&location)) f.line = location.start_line + 1;
    f.rule = std::move(rule);
    f.breaks = breaks;
    f.message = std::move(message);
    findings_.push_back(std::move(f));
  }
  void Report(const google::protobuf::FileDescriptor* file, std::string rule, unsigned breaks, std::string message) {
    findings_.push_back(Finding{file->name(), 0, std::move(rule), breaks, std::move(message)});
  }

  void CompareRole(const RoleModel& old_role) {
    const bool shared = old_role.service == nullptr || old_role.name == "shared";
    const RoleModel* now = FindRole(new_, old_role.name);
    if (!shared && now == nullptr) {
      Report(old_role.service, "ROLE_REMOVED", kAll,
             "role " + Quote(old_role.name) + " (service " + old_role.service->full_name() +
                 ") was removed or renamed; its clients are refused at the upgrade");
      return;
    }
    if (now != nullptr && old_role.service != nullptr && now->service != nullptr &&
        old_role.service->name() != now->service->name()) {
      Report(now->service, "ROLE_SERVICE_CHANGED", kSource,
             "role " + Quote(old_role.name) + " moved from service " + old_role.service->full_name() + " to " +
                 now->service->full_name());
    }
    if (now != nullptr) CompareEnv(old_role, *now);
    for (const MethodModel& m : old_role.methods) {
      const MethodModel* same = now == nullptr ? nullptr : FindMethod(*now, m.wire_name);
      if (same != nullptr) {
        CompareMethod(m, *same, old_role.name);
        continue;
      }
      if (!shared) {
        if (const MethodModel* in_shared = FindMethod(new_.roles[0], m.wire_name)) {
          Report(in_shared->method, "METHOD_SCOPE_CHANGED", kSource,
                 Describe(m, old_role.name) + " moved to the shared service (every role has it now)");
          CompareMethod(m, *in_shared, old_role.name);
          continue;
        }
      } else {
        std::vector<const RoleModel*> keep;
        std::string losers;
        for (size_t r = 1; r < new_.roles.size(); ++r) {
          if (FindMethod(new_.roles[r], m.wire_name) != nullptr) {
            keep.push_back(&new_.roles[r]);
          } else {
            losers += (losers.empty() ? "" : ", ") + Quote(new_.roles[r].name);
          }
        }
        if (!keep.empty()) {
          const MethodModel& moved = *FindMethod(*keep[0], m.wire_name);
          Report(moved.method, "METHOD_SCOPE_CHANGED", losers.empty() ? kSource : kAll,
                 Describe(m, "shared") + " moved from the shared service to role " + Quote(keep[0]->name) +
                     (losers.empty() ? "" : "; role(s) " + losers + " lose it"));
          CompareMethod(m, moved, old_role.name);
          continue;
        }
      }
      Report(m.method, RemovedRule(m.kind), kAll, Describe(m, old_role.name) + " was removed or renamed");
    }
  }

  // A role's env (its own or shared's): a new one is an addition; one dropped or of another type
  // changes what every client of the role reads.
  void CompareEnv(const RoleModel& was, const RoleModel& now) {
    if (was.env == nullptr) return;
    if (now.env == nullptr) {
      Report(now.service != nullptr ? now.service : was.service, "ROLE_ENV_CHANGED", kAll,
             "role " + Quote(was.name) + "'s env (" + was.env->full_name() + ") was removed");
    } else if (Relative(was.env, old_) != Relative(now.env, new_)) {
      Report(now.service != nullptr ? now.service : was.service, "ROLE_ENV_CHANGED", kAll,
             "role " + Quote(was.name) + "'s env is now " + now.env->full_name() + ", was " + was.env->full_name());
    } else {
      CompareMessages(was.env, now.env);
    }
  }

  void CompareMethod(const MethodModel& was, const MethodModel& now, const std::string& role) {
    if (was.kind != now.kind) {
      Report(now.method, "METHOD_KIND_CHANGED", kAll,
             Describe(was, role) + " is now " + (now.kind == MethodKind::kEvent ? "an " : "a ") +
                 KindWords(now.kind));
      return;
    }
    CompareTypes(was, now, role);
  }

  void CompareTypes(const MethodModel& was, const MethodModel& now, const std::string& role) {
    const bool request = was.kind == MethodKind::kRequest || was.kind == MethodKind::kServerRequest;
    const char* noun = request || was.kind == MethodKind::kClientEvent || was.kind == MethodKind::kServerEvent
                           ? "takes"
                           : "carries";
    if (Relative(was.payload, old_) != Relative(now.payload, new_)) {
      Report(now.method, "PAYLOAD_TYPE_CHANGED", kSource,
             Describe(was, role) + " " + noun + " " + now.payload->full_name() + ", was " + was.payload->full_name());
    }
    CompareMessages(was.payload, now.payload);
    if (!request) return;
    if (Relative(was.reply, old_) != Relative(now.reply, new_)) {
      Report(now.method, "REPLY_TYPE_CHANGED", kSource,
             Describe(was, role) + " replies " + now.reply->full_name() + ", was " + was.reply->full_name());
    }
    CompareMessages(was.reply, now.reply);
  }

  void CompareMessages(const Descriptor* was, const Descriptor* now) {
    if (!compared_.emplace(was->full_name(), now->full_name()).second) return;
    for (int i = 0; i < was->field_count(); ++i) {
      const FieldDescriptor* f = was->field(i);
      if (const FieldDescriptor* n = now->FindFieldByNumber(f->number())) {
        if (n->name() == f->name()) {
          CompareField(f, n);
        } else if (f->type() == n->type() && Cardinality(f) == Cardinality(n)) {
          // The same field under a new name: binary peers agree, JSON ones do not (unless the JSON
          // name was pinned to the old one).
          const bool json_kept = n->json_name() == f->json_name();
          Report(n, "FIELD_RENAMED", json_kept ? kSource : kJson | kSource,
                 FieldWords(f) + " was renamed to " + Quote(n->name()) +
                     (json_kept ? " (its JSON name " + Quote(f->json_name()) + " is kept)"
                                : " (JSON name " + Quote(f->json_name()) + " -> " + Quote(n->json_name()) + ")"));
          CompareField(f, n);
        } else {
          Report(n, "FIELD_NUMBER_REUSED", kAll,
                 "number " + std::to_string(f->number()) + " of " + now->full_name() + " was " + Quote(f->name()) +
                     " (" + Cardinality(f) + " " + TypeName(f) + "), is now " + Quote(n->name()) + " (" +
                     Cardinality(n) + " " + TypeName(n) + ")");
        }
        continue;
      }
      if (const FieldDescriptor* n = now->FindFieldByName(f->name())) {
        Report(n, "FIELD_NUMBER_CHANGED", kWire,
               FieldWords(f) + " moved to number " + std::to_string(n->number()) +
                   " (binary peers read it as a different field)");
        CompareField(f, n);
        continue;
      }
      const bool number_reserved = now->IsReservedNumber(f->number());
      const bool name_reserved = now->IsReservedName(f->name());
      unsigned breaks = kSource;
      std::string advice;
      if (!number_reserved) {
        breaks |= kWire | kJson;
        advice = "; reserve its number and name (reserved " + std::to_string(f->number()) + "; reserved " +
                 Quote(f->name()) + ";) so no later field reuses them";
      } else if (!name_reserved) {
        breaks |= kJson;
        advice = "; reserve its name too (reserved " + Quote(f->name()) + ";)";
      }
      Report(f, "FIELD_REMOVED", breaks, FieldWords(f) + " was removed" + advice);
    }
    for (int i = 0; i < now->field_count(); ++i) {
      const FieldDescriptor* n = now->field(i);
      if (was->FindFieldByNumber(n->number()) != nullptr || was->FindFieldByName(n->name()) != nullptr) continue;
      if (was->IsReservedNumber(n->number())) {
        Report(n, "FIELD_NUMBER_REUSED", kWire | kJson,
               FieldWords(n) + " takes number " + std::to_string(n->number()) + ", which the old contract reserved");
      }
      if (inbound_.count(now->full_name()) != 0 && n->options().GetExtension(superline::required)) {
        Report(n, "CONSTRAINT_REQUIRED_ADDED", kWire | kJson,
               "new " + FieldWords(n) + " is required: peers on the old contract never send it");
      }
    }
  }

  void CompareField(const FieldDescriptor* f, const FieldDescriptor* n) {
    if (n->name() == f->name() && n->json_name() != f->json_name()) {
      Report(n, "FIELD_JSON_NAME_CHANGED", kJson,
             FieldWords(n) + " changed its JSON name from " + Quote(f->json_name()) + " to " + Quote(n->json_name()));
    }
    if (Cardinality(f) != Cardinality(n)) {
      Report(n, "FIELD_CARDINALITY_CHANGED", CardinalityBreaks(Cardinality(f), Cardinality(n)),
             FieldWords(n) + " changed from " + Cardinality(f) + " to " + Cardinality(n));
    }
    if (OneofName(f) != OneofName(n)) {
      const std::string from = OneofName(f).empty() ? "no oneof" : "oneof " + Quote(OneofName(f));
      const std::string to = OneofName(n).empty() ? "no oneof" : "oneof " + Quote(OneofName(n));
      Report(n, "FIELD_ONEOF_CHANGED", kAll, FieldWords(n) + " moved from " + from + " to " + to);
    }
    if (f->type() != n->type()) {
      unsigned breaks = kSource;
      if (WireGroup(f->type()) != WireGroup(n->type())) breaks |= kWire;
      if (JsonGroup(f->type()) != JsonGroup(n->type())) breaks |= kJson;
      Report(n, "FIELD_TYPE_CHANGED", breaks,
             FieldWords(n) + " changed type from " + TypeName(f) + " to " + TypeName(n));
    } else if (f->message_type() != nullptr) {
      if (Relative(f->message_type(), old_) != Relative(n->message_type(), new_)) {
        Report(n, "FIELD_TYPE_CHANGED", kSource,
               FieldWords(n) + " changed type from " + TypeName(f) + " to " + TypeName(n));
      }
      CompareMessages(f->message_type(), n->message_type());
    } else if (f->enum_type() != nullptr) {
      if (Relative(f->enum_type(), old_) != Relative(n->enum_type(), new_)) {
        Report(n, "FIELD_TYPE_CHANGED", kSource,
               FieldWords(n) + " changed type from " + TypeName(f) + " to " + TypeName(n));
      }
      CompareEnums(f->enum_type(), n->enum_type());
    }
    if (inbound_.count(n->containing_type()->full_name()) != 0) CompareConstraints(f, n);
  }

  void CompareConstraints(const FieldDescriptor* f, const FieldDescriptor* n) {
    const auto& was = f->options();
    const auto& now = n->options();
    if (!was.GetExtension(superline::required) && now.GetExtension(superline::required)) {
      Report(n, "CONSTRAINT_REQUIRED_ADDED", kWire | kJson,
             FieldWords(n) + " became required: an old peer that leaves it unset is refused");
    }
    auto tightened = [&](const char* name, const auto& ext, bool lower_is_tighter) {
      if (!now.HasExtension(ext)) return;
      const double to = static_cast<double>(now.GetExtension(ext));
      const bool had = was.HasExtension(ext);
      const double from = had ? static_cast<double>(was.GetExtension(ext)) : 0;
      if (had && (lower_is_tighter ? to >= from : to <= from)) return;
      Report(n, "CONSTRAINT_TIGHTENED", kWire | kJson,
             FieldWords(n) + ": " + name + " " + (had ? Number(from) + " -> " + Number(to) : "set to " + Number(to)) +
                 ": values an old peer may send are refused");
    };
    tightened("min_len", superline::min_len, false);
    tightened("max_len", superline::max_len, true);
    tightened("min", superline::min, false);
    tightened("max", superline::max, true);
    tightened("max_items", superline::max_items, true);
  }

  void CompareEnums(const EnumDescriptor* was, const EnumDescriptor* now) {
    if (!compared_.emplace(was->full_name(), now->full_name()).second) return;
    const std::string of = " of enum " + now->full_name();
    for (int i = 0; i < was->value_count(); ++i) {
      const EnumValueDescriptor* v = was->value(i);
      if (const EnumValueDescriptor* same = now->FindValueByName(v->name())) {
        if (same->number() != v->number()) {
          Report(same, "ENUM_VALUE_RENUMBERED", kWire,
                 "value " + v->name() + of + " changed number from " + std::to_string(v->number()) + " to " +
                     std::to_string(same->number()));
        }
        continue;
      }
      if (const EnumValueDescriptor* renamed = now->FindValueByNumber(v->number())) {
        Report(renamed, "ENUM_VALUE_RENAMED", kJson | kSource,
               "value " + std::to_string(v->number()) + of + " was renamed from " + v->name() + " to " +
                   renamed->name() + " (JSON carries the name)");
        continue;
      }
      unsigned breaks = kSource;
      if (!now->IsReservedNumber(v->number())) {
        breaks |= kWire | kJson;
      } else if (!now->IsReservedName(v->name())) {
        breaks |= kJson;
      }
      Report(v, "ENUM_VALUE_REMOVED", breaks,
             "value " + v->name() + " (" + std::to_string(v->number()) + ")" + of + " was removed" +
                 ((breaks & kWire) ? "; reserve its number and name" : (breaks & kJson) ? "; reserve its name too" : ""));
    }
  }

  const ContractModel& old_;
  const ContractModel& new_;
  std::set<std::string> inbound_;
  unsigned mask_ = kAll;  // what the messages being compared can break (their wires)
  std::set<std::pair<std::string, std::string>> compared_;
  std::vector<Finding> findings_;
};

}  // namespace

std::vector<Finding> CompareContracts(const ContractModel& old_contract, const ContractModel& new_contract) {
  return Comparer(old_contract, new_contract).Run();
}

std::string FormatBreaks(unsigned breaks) {
  std::string out;
  for (auto [bit, word] : {std::pair{kWire, "wire"}, std::pair{kJson, "json"}, std::pair{kSource, "source"}}) {
    if ((breaks & bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

std::string FormatFinding(const Finding& f) {
  std::string out = f.file;
  if (f.line > 0) out += ":" + std::to_string(f.line);
  return out + ": " + f.rule + " [" + FormatBreaks(f.breaks) + "]: " + f.message;
}

}  // namespace superline::codegen
