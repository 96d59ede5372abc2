#include "superline/validation.h"

#include <google/protobuf/descriptor.h>

#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <unordered_map>

#include <boost/json/parse.hpp>

#include "absl/strings/cord.h"
#include "superline/internal/text.h"
#include "superline/options.pb.h"
#include "superline/status.h"
#include "superline/wire.pb.h"

namespace superline {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr std::string_view kIssuesPayload = "superline.dev/issues";
// A payload of many bad elements is answered with its first issues only: the answer stays small.
constexpr std::size_t kMaxIssues = 16;

std::string number_text(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  return s;
}

// ---- The constraints of one message type, read once from its descriptor ----

struct Plan;

struct FieldRule {
  const FieldDescriptor* field = nullptr;
  bool required = false;
  std::optional<uint32_t> min_len, max_len, max_items;
  std::optional<double> min, max;
  const Plan* child = nullptr;  // the plan of a message-typed field's type (a map's value type)
};

struct Plan {
  std::vector<FieldRule> rules;
};

bool has_own_constraints(const FieldDescriptor& f) {
  const auto& o = f.options();
  return o.GetExtension(superline::required) || o.HasExtension(superline::min_len) ||
         o.HasExtension(superline::max_len) || o.HasExtension(superline::min) || o.HasExtension(superline::max) ||
         o.HasExtension(superline::max_items);
}

// The message type whose fields a field's values are: its own, or a map's value type.
const Descriptor* value_type(const FieldDescriptor& f) {
  if (f.is_map()) {
    const FieldDescriptor* value = f.message_type()->map_value();
    return value->message_type();
  }
  return f.message_type();
}

void reachable(const Descriptor* d, std::set<const Descriptor*>* seen) {
  if (d == nullptr || !seen->insert(d).second) return;
  for (int i = 0; i < d->field_count(); ++i) reachable(value_type(*d->field(i)), seen);
}

// Whether `d` or any message inside it has a constraint.
bool needs_checking(const Descriptor* d) {
  std::set<const Descriptor*> seen;
  reachable(d, &seen);
  for (const Descriptor* m : seen) {
    for (int i = 0; i < m->field_count(); ++i) {
      if (has_own_constraints(*m->field(i))) return true;
    }
  }
  return false;
}

// Plans by message type, made on first sight and never changed after: readers share the lock.
class Plans {
 public:
  const Plan* find(const Descriptor* d) {
    {
      std::shared_lock lock(mu_);
      if (auto it = plans_.find(d); it != plans_.end()) return it->second.get();
    }
    std::unique_lock lock(mu_);
    return make(d);
  }

 private:
  const Plan* make(const Descriptor* d) {
    if (auto it = plans_.find(d); it != plans_.end()) return it->second.get();
    if (!needs_checking(d)) {
      plans_[d] = nullptr;
      return nullptr;
    }
    Plan* plan = (plans_[d] = std::make_unique<Plan>()).get();  // first, so a recursive type finds it
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      FieldRule rule;
      rule.field = f;
      const auto& o = f->options();
      rule.required = o.GetExtension(superline::required);
      if (o.HasExtension(superline::min_len)) rule.min_len = o.GetExtension(superline::min_len);
      if (o.HasExtension(superline::max_len)) rule.max_len = o.GetExtension(superline::max_len);
      if (o.HasExtension(superline::max_items)) rule.max_items = o.GetExtension(superline::max_items);
      if (o.HasExtension(superline::min)) rule.min = o.GetExtension(superline::min);
      if (o.HasExtension(superline::max)) rule.max = o.GetExtension(superline::max);
      if (const Descriptor* type = value_type(*f)) rule.child = make(type);
      if (has_own_constraints(*f) || rule.child != nullptr) plan->rules.push_back(rule);
    }
    return plan;
  }

  std::shared_mutex mu_;
  std::unordered_map<const Descriptor*, std::unique_ptr<Plan>> plans_;
};

Plans& plans() {
  static Plans* const instance = new Plans();  // never destroyed: handlers may validate at exit
  return *instance;
}

// ---- Checking a message against its plan ----

class Checker {
 public:
  explicit Checker(std::vector<ValidationIssue>& out) : out_(out) {}

  void message(const Message& m, const Plan& plan) {
    const Reflection* r = m.GetReflection();
    for (const FieldRule& rule : plan.rules) {
      if (full()) return;
      const FieldDescriptor* f = rule.field;
      path_.emplace_back(f->json_name());
      if (f->is_repeated()) {
        repeated(m, *r, rule);
      } else if (r->HasField(m, f)) {  // proto3 implicit presence: set means not the zero value
        value(m, *r, rule, -1);
      } else if (rule.required) {
        issue(kInvalidType, "Required");
      }
      path_.pop_back();
    }
  }

 private:
  bool full() const { return out_.size() >= kMaxIssues; }

  void issue(std::string_view code, std::string message) {
    if (full()) return;
    out_.push_back(ValidationIssue{path_, std::string(code), std::move(message)});
  }

  void repeated(const Message& m, const Reflection& r, const FieldRule& rule) {
    const FieldDescriptor* f = rule.field;
    const int n = r.FieldSize(m, f);
    if (rule.required && n == 0) issue(kInvalidType, "Required");
    if (rule.max_items && static_cast<uint32_t>(n) > *rule.max_items) {
      issue(kTooBig, cat(f->is_map() ? "Map" : "Array", " must contain at most ", *rule.max_items,
                         f->is_map() ? " entr(ies)" : " element(s)"));
    }
    if (f->is_map()) {
      if (rule.child == nullptr) return;
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* val = f->message_type()->map_value();
      for (int i = 0; i < n && !full(); ++i) {
        const Message& entry = r.GetRepeatedMessage(m, f, i);
        const Reflection* er = entry.GetReflection();
        path_.emplace_back(map_key(entry, *er, key));
        message(er->GetMessage(entry, val), *rule.child);
        path_.pop_back();
      }
      return;
    }
    if (!rule.min_len && !rule.max_len && !rule.min && !rule.max && rule.child == nullptr) return;
    for (int i = 0; i < n && !full(); ++i) {
      path_.emplace_back(static_cast<uint64_t>(i));
      value(m, r, rule, i);
      path_.pop_back();
    }
  }

  static std::string map_key(const Message& entry, const Reflection& r, const FieldDescriptor* key) {
    switch (key->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return r.GetString(entry, key);
      case FieldDescriptor::CPPTYPE_BOOL:
        return r.GetBool(entry, key) ? "true" : "false";
      case FieldDescriptor::CPPTYPE_INT32:
        return std::to_string(r.GetInt32(entry, key));
      case FieldDescriptor::CPPTYPE_INT64:
        return std::to_string(r.GetInt64(entry, key));
      case FieldDescriptor::CPPTYPE_UINT32:
        return std::to_string(r.GetUInt32(entry, key));
      case FieldDescriptor::CPPTYPE_UINT64:
        return std::to_string(r.GetUInt64(entry, key));
      default:
        return "";
    }
  }

  // One value (index < 0: the singular field's).
  void value(const Message& m, const Reflection& r, const FieldRule& rule, int index) {
    const FieldDescriptor* f = rule.field;
    const bool one = index < 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = one ? r.GetStringReference(m, f, &scratch) : r.GetRepeatedStringReference(m, f, index, &scratch);
        length(f->type() == FieldDescriptor::TYPE_BYTES ? s.size() : code_points(s), rule,
               f->type() == FieldDescriptor::TYPE_BYTES);
        return;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (rule.child != nullptr) message(one ? r.GetMessage(m, f) : r.GetRepeatedMessage(m, f, index), *rule.child);
        return;
      case FieldDescriptor::CPPTYPE_INT32:
        return bounds(one ? r.GetInt32(m, f) : r.GetRepeatedInt32(m, f, index), rule);
      case FieldDescriptor::CPPTYPE_INT64:
        return bounds(static_cast<double>(one ? r.GetInt64(m, f) : r.GetRepeatedInt64(m, f, index)), rule);
      case FieldDescriptor::CPPTYPE_UINT32:
        return bounds(one ? r.GetUInt32(m, f) : r.GetRepeatedUInt32(m, f, index), rule);
      case FieldDescriptor::CPPTYPE_UINT64:
        return bounds(static_cast<double>(one ? r.GetUInt64(m, f) : r.GetRepeatedUInt64(m, f, index)), rule);
      case FieldDescriptor::CPPTYPE_FLOAT:
        return bounds(one ? r.GetFloat(m, f) : r.GetRepeatedFloat(m, f, index), rule);
      case FieldDescriptor::CPPTYPE_DOUBLE:
        return bounds(one ? r.GetDouble(m, f) : r.GetRepeatedDouble(m, f, index), rule);
      default:
        return;  // bool, enum: no constraint but required applies to them (the plugin refuses others)
    }
  }

  static std::size_t code_points(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
  }

  void length(std::size_t n, const FieldRule& rule, bool bytes) {
    const char* what = bytes ? "byte(s)" : "character(s)";
    const char* noun = bytes ? "Bytes" : "String";
    if (rule.min_len && n < *rule.min_len) issue(kTooSmall, cat(noun, " must contain at least ", *rule.min_len, " ", what));
    if (rule.max_len && n > *rule.max_len) issue(kTooBig, cat(noun, " must contain at most ", *rule.max_len, " ", what));
  }

  void bounds(double v, const FieldRule& rule) {
    if (std::isnan(v) && (rule.min || rule.max)) return issue(kInvalidType, "Expected number, received nan");
    if (rule.min && v < *rule.min) issue(kTooSmall, "Number must be greater than or equal to " + number_text(*rule.min));
    if (rule.max && v > *rule.max) issue(kTooBig, "Number must be less than or equal to " + number_text(*rule.max));
  }

  std::vector<ValidationIssue>& out_;
  std::vector<PathElement> path_;
};

}  // namespace

std::string format_path(const std::vector<PathElement>& path) {
  std::string out;
  for (const PathElement& e : path) {
    if (const uint64_t* index = std::get_if<uint64_t>(&e)) {
      out += cat("[", *index, "]");
    } else if (out.empty()) {
      out += std::get<std::string>(e);
    } else {
      out += "." + std::get<std::string>(e);
    }
  }
  return out;
}

std::string encode_issues(Wire wire, const std::vector<ValidationIssue>& issues) {
  if (wire == Wire::kProtobuf) {
    wire::ValidationIssues proto;
    for (const ValidationIssue& issue : issues) {
      wire::ValidationIssue* out = proto.add_issues();
      for (const PathElement& e : issue.path) {
        if (const uint64_t* index = std::get_if<uint64_t>(&e)) {
          out->add_path()->set_index(*index);
        } else {
          out->add_path()->set_key(std::get<std::string>(e));
        }
      }
      out->set_code(issue.code);
      out->set_message(issue.message);
    }
    return proto.SerializeAsString();
  }
  std::string out = "[";
  for (const ValidationIssue& issue : issues) {
    if (out.size() > 1) out += ',';
    out += R"({"path":[)";
    for (size_t i = 0; i < issue.path.size(); ++i) {
      if (i > 0) out += ',';
      if (const uint64_t* index = std::get_if<uint64_t>(&issue.path[i])) {
        out += std::to_string(*index);
      } else {
        append_json_string(out, std::get<std::string>(issue.path[i]));
      }
    }
    out += R"(],"code":)";
    append_json_string(out, issue.code);
    out += R"(,"message":)";
    append_json_string(out, issue.message);
    out += '}';
  }
  return out + "]";
}

std::vector<ValidationIssue> decode_issues(Wire wire, std::string_view d) {
  std::vector<ValidationIssue> out;
  if (wire == Wire::kProtobuf) {
    wire::ValidationIssues proto;
    if (!proto.ParseFromArray(d.data(), static_cast<int>(d.size()))) return out;
    for (const wire::ValidationIssue& in : proto.issues()) {
      ValidationIssue issue;
      for (const wire::PathElement& e : in.path()) {
        if (e.element_case() == wire::PathElement::kIndex) {
          issue.path.emplace_back(e.index());
        } else {
          issue.path.emplace_back(e.key());
        }
      }
      issue.code = in.code();
      issue.message = in.message();
      out.push_back(std::move(issue));
    }
    return out;
  }
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(boost::json::string_view(d.data(), d.size()), ec);
  if (ec || !parsed.is_array()) return out;
  for (const boost::json::value& item : parsed.get_array()) {
    const boost::json::object* o = item.if_object();
    if (o == nullptr) continue;
    ValidationIssue issue;
    if (const boost::json::value* path = o->if_contains("path"); path != nullptr && path->is_array()) {
      for (const boost::json::value& e : path->get_array()) {
        if (e.is_string()) {
          issue.path.emplace_back(std::string(e.get_string()));
        } else if (e.is_uint64() || (e.is_int64() && e.get_int64() >= 0)) {
          issue.path.emplace_back(e.is_uint64() ? e.get_uint64() : static_cast<uint64_t>(e.get_int64()));
        }
      }
    }
    if (const boost::json::value* code = o->if_contains("code"); code != nullptr && code->is_string()) {
      issue.code = std::string(code->get_string());
    }
    if (const boost::json::value* message = o->if_contains("message"); message != nullptr && message->is_string()) {
      issue.message = std::string(message->get_string());
    }
    out.push_back(std::move(issue));
  }
  return out;
}

absl::Status validation_error(std::vector<ValidationIssue> issues) {
  if (issues.empty()) issues.push_back(ValidationIssue{{}, std::string(kCustom), "Invalid input"});
  const ValidationIssue& first = issues.front();
  std::string message = first.path.empty() ? first.message : cat(format_path(first.path), ": ", first.message);
  if (issues.size() > 1) message += cat(" (and ", issues.size() - 1, " more)");
  absl::Status status = error(kValidation, message);
  status.SetPayload(absl_view(kIssuesPayload), absl::Cord(encode_issues(Wire::kProtobuf, issues)));
  return status;
}

std::vector<ValidationIssue> validation_issues(const absl::Status& status) {
  if (error_code(status) != kValidation) return {};
  const auto payload = status.GetPayload(absl_view(kIssuesPayload));
  if (!payload) return {ValidationIssue{{}, std::string(kCustom), std::string(std_view(status.message()))}};
  return decode_issues(Wire::kProtobuf, std::string(*payload));
}

std::vector<ValidationIssue> check_constraints(const Message& message) {
  std::vector<ValidationIssue> out;
  if (const Plan* plan = plans().find(message.GetDescriptor())) Checker(out).message(message, *plan);
  return out;
}

}  // namespace superline
