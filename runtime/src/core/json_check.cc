#include "json_check.h"

#include <boost/json/serialize.hpp>
#include <string>

#include "superline/internal/text.h"

namespace superline {
namespace {

namespace json = boost::json;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

std::string shown(const json::value& v) { return clip(json::serialize(v)); }

absl::Status wrong(const std::string& path, std::string_view expected, const json::value& got) {
  return absl::InvalidArgumentError(cat(path, ": expected ", expected, ", got ", shown(got)));
}

// The well-known types whose JSON form is not an object of their fields; protobuf checks them.
bool special_json(const Descriptor& type) {
  const std::string& name = type.full_name();
  return name.rfind("google.protobuf.", 0) == 0 && name != "google.protobuf.Empty";
}

absl::Status check_message(const json::value& v, const Descriptor& type, const std::string& path);

// The field a JSON key names: its json_name ("teamColor") or its proto name ("team_color").
const FieldDescriptor* field_named(const Descriptor& type, std::string_view key) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->json_name() == key || field->name() == key) return field;
  }
  return nullptr;
}

// One value of `field`'s type (an element, for repeated fields and maps).
absl::Status check_single(const json::value& v, const FieldDescriptor& field, const std::string& path) {
  switch (field.type()) {
    case FieldDescriptor::TYPE_BOOL:
      if (!v.is_bool()) return wrong(path, "true or false", v);
      return absl::OkStatus();
    case FieldDescriptor::TYPE_ENUM: {
      const auto* values = field.enum_type();
      if (values->full_name() == "google.protobuf.NullValue" && v.is_null()) return absl::OkStatus();
      if (v.is_string()) {
        const json::string& name = v.get_string();
        if (values->FindValueByName(std::string(name.data(), name.size())) == nullptr) {
          return absl::InvalidArgumentError(cat(path, ": ", shown(v), " is not a value of ", values->full_name()));
        }
        return absl::OkStatus();
      }
      if (v.is_int64() || v.is_uint64()) return absl::OkStatus();  // proto3 enums are open
      return wrong(path, cat("a name of ", values->full_name()), v);
    }
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      if (special_json(*field.message_type())) return absl::OkStatus();
      return check_message(v, *field.message_type(), path);
    default:
      return absl::OkStatus();  // numbers, strings, bytes: protobuf's parser is strict about these
  }
}

absl::Status check_field(const json::value& v, const FieldDescriptor& field, const std::string& path) {
  if (v.is_null()) return absl::OkStatus();  // the default value, as protobuf reads it
  if (field.is_map()) {
    if (!v.is_object()) return wrong(path, "an object (a map)", v);
    const FieldDescriptor& value = *field.message_type()->map_value();
    for (const auto& entry : v.get_object()) {
      const std::string at = cat(path, "[", shown(json::value(entry.key())), "]");
      if (entry.value().is_null()) return wrong(at, "a value", entry.value());
      if (absl::Status s = check_single(entry.value(), value, at); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (field.is_repeated()) {
    if (!v.is_array()) return wrong(path, "an array", v);
    const json::array& items = v.get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string at = cat(path, "[", i, "]");
      if (items[i].is_null()) return wrong(at, "a value", items[i]);
      if (absl::Status s = check_single(items[i], field, at); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return check_single(v, field, path);
}

absl::Status check_message(const json::value& v, const Descriptor& type, const std::string& path) {
  if (!v.is_object()) return wrong(path.empty() ? type.full_name() : path, "an object", v);
  for (const auto& entry : v.get_object()) {
    const std::string key(entry.key().data(), entry.key().size());
    const FieldDescriptor* field = field_named(type, key);
    if (field == nullptr) continue;  // unknown: ignored, or refused by protobuf in strict mode
    if (absl::Status s = check_field(entry.value(), *field, path.empty() ? key : cat(path, ".", key)); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status check_json_values(const json::value& payload, const Descriptor& type) {
  if (payload.is_null()) return absl::OkStatus();
  return check_message(payload, type, "");
}

}  // namespace superline
