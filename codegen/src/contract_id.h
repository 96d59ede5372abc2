// A contract's identity, as the server names it at the WebSocket upgrade (Superline-Contract) and as
// clients compare it: "<package>.<Contract>@<16 hex>", the hex being the first 8 bytes of the
// SHA-256 of the contract's canonical descriptor. Canonical: the contract file and every file it
// imports (transitively) except superline's options and protobuf's own, each as a
// FileDescriptorProto without source info and with every field's json_name filled in, serialized
// deterministically, in file-name order. So comments and formatting do not change the id, and the
// plugin (fed by protoc) and superline-compat (fed by a descriptor set or a .proto) agree on it.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>

namespace superline::codegen {

struct ContractModel;

std::string ContractId(const ContractModel& model);

// superline/options.proto and google/protobuf/*: what a contract's id leaves out, and what a tool
// resolves from its compiled-in copies.
bool IsToolingFile(const std::string& name);

}  // namespace superline::codegen
