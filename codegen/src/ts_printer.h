// The lang=ts printer: from the same validated model as the C++ printer, foo.superline.ts with one
// typed client class per role on @superline/client, its payload types and schemas taken from
// protoc-gen-es's foo_pb.ts (and the _pb.ts of every file foo imports payloads from).
#pragma once

#include <google/protobuf/io/printer.h>

#include <string>

#include "contract_model.h"

namespace superline::codegen {

void PrintTypeScript(google::protobuf::io::Printer& p, const ContractModel& model);

}  // namespace superline::codegen
