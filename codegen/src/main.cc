// protoc-gen-superline: run by protoc as --plugin=protoc-gen-superline=... --superline_out=DIR
// (C++) or --superline_out=lang=ts:DIR (TypeScript).
#include <google/protobuf/compiler/plugin.h>

#include "generator.h"

int main(int argc, char* argv[]) {
  superline::codegen::Generator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
