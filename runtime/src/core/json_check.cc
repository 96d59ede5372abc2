#include "json_check.h"

#include <boost/json/serialize.hpp>
#include <string>

#include "superline/internal/text.h"

namespace superline {
namespace {

namespace json = boost::json;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Issue = std::optional<ValidationIssue>;

std::string shown(const json::value& v) { return clip(json::serialize(v)); }

std::string_view kind(const json::value& v) {
  if (v.is_bool()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

class Check {
 public:
  Issue message(const json::value& v, const Descriptor& type) {
    if (!v.is_object()) return wrong("object", v);
    for (const auto& entry : v.get_object()) {
      const FieldDescriptor* f = field_named(type, std::string_view(entry.key().data(), entry.key().size()));
      if (f == nullptr) continue;  // unknown: ignored, or refused by protobuf in strict mode
      path_.emplace_back(std::string(entry.key().data(), entry.key().size()));
      if (Issue i = field(entry.value(), *f)) return i;
      path_.pop_back();
    }
    return std::nullopt;
  }

 private:
  Issue wrong(std::string_view expected, const json::value& got) {
    return ValidationIssue{path_, std::string(kInvalidType), cat("Expected ", expected, ", received ", kind(got))};
  }

  // The field a JSON key names: its json_name ("teamColor") or its proto name ("team_color").
  static const FieldDescriptor* field_named(const Descriptor& type, std::string_view key) {
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor* field = type.field(i);
      if (field->json_name() == key || field->name() == key) return field;
    }
    return nullptr;
  }

  // The well-known types whose JSON form is not an object of their fields; protobuf checks them.
  static bool special_json(const Descriptor& type) {
    const std::string& name = type.full_name();
    return name.rfind("google.protobuf.", 0) == 0 && name != "google.protobuf.Empty";
  }

  Issue field(const json::value& v, const FieldDescriptor& f) {
    if (v.is_null()) return std::nullopt;  // the default value, as protobuf reads it
    if (f.is_map()) {
      if (!v.is_object()) return wrong("object (a map)", v);
      const FieldDescriptor& value = *f.message_type()->map_value();
      for (const auto& entry : v.get_object()) {
        path_.emplace_back(std::string(entry.key().data(), entry.key().size()));
        if (entry.value().is_null()) return wrong("a value", entry.value());
        if (Issue i = single(entry.value(), value)) return i;
        path_.pop_back();
      }
      return std::nullopt;
    }
    if (f.is_repeated()) {
      if (!v.is_array()) return wrong("array", v);
      const json::array& items = v.get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        path_.emplace_back(static_cast<uint64_t>(i));
        if (items[i].is_null()) return wrong("a value", items[i]);
        if (Issue issue = single(items[i], f)) return issue;
        path_.pop_back();
      }
      return std::nullopt;
    }
    return single(v, f);
  }

  // One value of `f`'s type (an element, for repeated fields and maps).
  Issue single(const json::value& v, const FieldDescriptor& f) {
    switch (f.type()) {
      case FieldDescriptor::TYPE_BOOL:
        return v.is_bool() ? std::nullopt : wrong("boolean", v);
      case FieldDescriptor::TYPE_STRING:
      case FieldDescriptor::TYPE_BYTES:  // base64; protobuf checks the alphabet
        return v.is_string() ? std::nullopt : wrong("string", v);
      case FieldDescriptor::TYPE_ENUM: {
        const auto* values = f.enum_type();
        if (values->full_name() == "google.protobuf.NullValue" && v.is_null()) return std::nullopt;
        if (v.is_string()) {
          const json::string& name = v.get_string();
          if (values->FindValueByName(std::string(name.data(), name.size())) != nullptr) return std::nullopt;
          return ValidationIssue{path_, std::string(kInvalidType),
                                 cat(shown(v), " is not a value of ", values->full_name())};
        }
        if (v.is_int64() || v.is_uint64()) return std::nullopt;  // proto3 enums are open
        return wrong(cat("a name of ", values->full_name()), v);
      }
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP:
        if (special_json(*f.message_type())) return std::nullopt;
        return message(v, *f.message_type());
      default:  // numbers: JSON numbers, or strings ("12", "NaN"); protobuf checks range and form
        return v.is_number() || v.is_string() ? std::nullopt : wrong("number", v);
    }
  }

  std::vector<PathElement> path_;
};

}  // namespace

std::optional<ValidationIssue> check_json_values(const json::value& payload, const Descriptor& type) {
  if (payload.is_null()) return std::nullopt;
  return Check().message(payload, type);
}

}  // namespace superline
