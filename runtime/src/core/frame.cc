// superline.v1 JSON encoding of server frames and of payloads (protobuf's JSON mapping).
#include "superline/frame.h"

#include <google/protobuf/util/json_util.h>

#include "text.h"

namespace superline {

std::string payload_json(const google::protobuf::Message& payload) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;  // a client sees "ok":false, never a missing key
  std::string out;
  // Printing a valid message only fails for invalid UTF-8 in a string field; send {} rather than
  // half a payload.
  if (!google::protobuf::util::MessageToJsonString(payload, &out, options).ok()) out = "{}";
  return out;
}

Frame encode_event(std::string_view event, const google::protobuf::Message& payload) {
  std::string frame = R"({"t":"evt","e":)";
  append_json_string(frame, event);
  frame += R"(,"d":)";
  frame += payload_json(payload);
  frame += '}';
  return std::make_shared<const std::string>(std::move(frame));
}

Frame encode_publish(std::string_view topic, const google::protobuf::Message& payload,
                     std::string_view node_id) {
  std::string frame = R"({"t":"pub","c":)";
  append_json_string(frame, topic);
  frame += R"(,"d":)";
  frame += payload_json(payload);
  frame += R"(,"nd":)";
  append_json_string(frame, node_id);
  frame += '}';
  return std::make_shared<const std::string>(std::move(frame));
}

absl::Status decode_payload(std::string_view json, google::protobuf::Message& out, bool strict) {
  out.Clear();
  if (json.empty() || json == "null") return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = !strict;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &out, options);
  if (status.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::string_view(status.message().data(), status.message().size()));
}

}  // namespace superline
