// Reads the contracts a tool outside protoc compares or inspects (superline-compat): from a
// FileDescriptorSet (protoc --include_imports --descriptor_set_out=FILE) or from a .proto file and
// import directories. Either way the descriptors pass through one FileDescriptorSet and one fresh
// pool, so both inputs yield the same descriptors as protoc hands the plugin (custom options as
// extensions, source info when the input had it). superline's options and protobuf's well-known
// types resolve from the copies compiled into the program when the input does not carry them.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor_database.h>

#include <memory>
#include <string>
#include <vector>

#include "contract_model.h"

namespace superline::codegen {

struct ContractInput {
  std::unique_ptr<google::protobuf::SimpleDescriptorDatabase> files;
  std::unique_ptr<google::protobuf::DescriptorPoolDatabase> compiled_in;
  std::unique_ptr<google::protobuf::MergedDescriptorDatabase> merged;
  std::unique_ptr<google::protobuf::DescriptorPool> pool;
  // The input's contracts (files with a role or server_to_server service), validated.
  std::vector<ContractModel> contracts;
  // The files read from disk: the input itself, and for a .proto every file it imports from disk.
  std::vector<std::string> disk_files;
};

// `path` ending in .proto is parsed, its imports searched in its own directory and `import_dirs`;
// anything else is read as a serialized FileDescriptorSet. On failure returns false with *error
// naming the file and the fault.
bool LoadContracts(const std::string& path, const std::vector<std::string>& import_dirs, ContractInput* out,
                   std::string* error);

// Writes the inputs' contracts as one FileDescriptorSet, each with the files it imports except
// superline's options and protobuf's own (LoadContracts finds those compiled in), with source info:
// a baseline to commit and compare against later, a few kilobytes for a contract like the chat's.
bool WriteContracts(const std::vector<const ContractInput*>& inputs, const std::string& path, std::string* error);

// A Makefile-style depfile (as protoc --dependency_out writes): `target` depends on every file the
// inputs read, so a build regenerates `target` when any of them changes.
bool WriteDepfile(const std::vector<const ContractInput*>& inputs, const std::string& target, const std::string& path,
                  std::string* error);

}  // namespace superline::codegen
