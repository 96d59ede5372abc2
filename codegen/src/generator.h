// protoc-gen-superline's CodeGenerator: for each contract foo.proto, writes foo.superline.h and
// foo.superline.cc (typed tags, per-role handler interfaces, dispatch, a typed server and clients),
// or with the parameter lang=ts foo.superline.ts (typed TypeScript clients, ts_printer.h).
#pragma once

#include <google/protobuf/compiler/code_generator.h>

#include <string>

namespace superline::codegen {

class Generator final : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context, std::string* error) const override;
  uint64_t GetSupportedFeatures() const override { return FEATURE_PROTO3_OPTIONAL; }
};

}  // namespace superline::codegen
