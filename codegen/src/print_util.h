// What both printers (C++ and TypeScript) need of the descriptors besides the model: the output
// stem of a .proto file and an element's leading comment, line by line.
#pragma once

#include <google/protobuf/descriptor.h>

#include <sstream>
#include <string>
#include <vector>

namespace superline::codegen {

// "chat/chat.proto" -> "chat/chat".
inline std::string StripProto(const std::string& name) {
  const std::string suffix = ".proto";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

// The leading comment of a .proto element, one entry per line, the space after "//" removed.
template <class D>
std::vector<std::string> LeadingComments(const D* descriptor) {
  std::vector<std::string> out;
  google::protobuf::SourceLocation location;
  if (descriptor == nullptr || !descriptor->GetSourceLocation(&location)) return out;
  std::istringstream lines(location.leading_comments);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    out.push_back(line);
  }
  return out;
}

}  // namespace superline::codegen
