#include "contract_input.h"

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.pb.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "contract_id.h"
#include "superline/options.pb.h"

namespace superline::codegen {
namespace {

namespace fs = std::filesystem;
using google::protobuf::FileDescriptor;
using google::protobuf::FileDescriptorProto;
using google::protobuf::FileDescriptorSet;

// Collects parse and build errors as "file:line:column: message" lines.
class Errors : public google::protobuf::compiler::MultiFileErrorCollector,
               public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column, const std::string& message) override {
    // protoc's parser counts from 0, and gives -1 when the fault has no place (file not found).
    text_ += filename + (line < 0 ? "" : ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1)) + ": " +
             message + "\n";
  }
  void AddError(const std::string& filename, const std::string& element_name, const google::protobuf::Message*,
                ErrorLocation, const std::string& message) override {
    text_ += filename + ": " + element_name + ": " + message + "\n";
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

bool IsContract(const FileDescriptor* file) {
  for (int s = 0; s < file->service_count(); ++s) {
    const auto& options = file->service(s)->options();
    if (options.HasExtension(superline::role) || options.GetExtension(superline::server_to_server)) return true;
  }
  return false;
}

// Adds `file` after what it imports (a pool builds a set in order), skipping tooling files when asked.
void AddWithImports(const FileDescriptor* file, bool skip_tooling, std::set<std::string>* seen,
                    FileDescriptorSet* set) {
  if ((skip_tooling && IsToolingFile(file->name())) || !seen->insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddWithImports(file->dependency(i), skip_tooling, seen, set);
  }
  FileDescriptorProto* proto = set->add_file();
  file->CopyTo(proto);
  file->CopySourceCodeInfoTo(proto);
  file->CopyJsonNameTo(proto);
}

// Parses `path` and what it imports into a FileDescriptorSet.
bool ParseProto(const std::string& path, const std::vector<std::string>& import_dirs, FileDescriptorSet* set,
                std::vector<std::string>* disk_files, std::string* error) {
  google::protobuf::compiler::DiskSourceTree tree;
  const fs::path file = fs::absolute(path).lexically_normal();
  // The name protoc would give it: relative to the first import dir that holds it, else to its own.
  std::string name = file.filename().string();
  std::vector<std::string> roots;
  for (const std::string& dir : import_dirs) {
    const fs::path root = fs::absolute(dir).lexically_normal();
    const fs::path relative = file.lexically_relative(root);
    if (name == file.filename().string() && !relative.empty() && *relative.begin() != "..") {
      name = relative.generic_string();
    }
    roots.push_back(root.string());
  }
  if (name == file.filename().string()) roots.insert(roots.begin(), file.parent_path().string());
  for (const std::string& root : roots) tree.MapPath("", root);

  Errors errors;
  google::protobuf::compiler::SourceTreeDescriptorDatabase disk(&tree);
  disk.RecordErrorsTo(&errors);
  google::protobuf::DescriptorPoolDatabase compiled_in(*google::protobuf::DescriptorPool::generated_pool());
  google::protobuf::MergedDescriptorDatabase merged(&disk, &compiled_in);
  google::protobuf::DescriptorPool pool(&merged, &errors);
  const FileDescriptor* parsed = pool.FindFileByName(name);
  if (parsed == nullptr) {
    *error = errors.text().empty() ? path + ": cannot read the file" : errors.text();
    if (!error->empty() && error->back() == '\n') error->pop_back();
    return false;
  }
  std::set<std::string> seen;
  AddWithImports(parsed, false, &seen, set);
  for (const FileDescriptorProto& read : set->file()) {
    std::string disk;
    if (tree.VirtualFileToDiskFile(read.name(), &disk)) disk_files->push_back(fs::absolute(disk).lexically_normal());
  }
  return true;
}

bool ReadSet(const std::string& path, FileDescriptorSet* set, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot read the file";
    return false;
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!set->ParseFromString(bytes.str())) {
    *error = path + ": not a FileDescriptorSet (write one with protoc --include_imports --descriptor_set_out=FILE, "
             "or pass the .proto)";
    return false;
  }
  return true;
}

}  // namespace

bool LoadContracts(const std::string& path, const std::vector<std::string>& import_dirs, ContractInput* out,
                   std::string* error) {
  const bool proto = fs::path(path).extension() == ".proto";
  FileDescriptorSet set;
  out->disk_files.clear();
  if (proto ? !ParseProto(path, import_dirs, &set, &out->disk_files, error) : !ReadSet(path, &set, error)) return false;
  if (!proto) out->disk_files.push_back(fs::absolute(path).lexically_normal());
  // Through bytes once more: the options' extensions are then parsed by the compiled-in
  // superline/options.proto, as for a descriptor set read from disk.
  if (!set.ParseFromString(set.SerializeAsString())) {
    *error = path + ": the descriptors do not round-trip";
    return false;
  }

  out->files = std::make_unique<google::protobuf::SimpleDescriptorDatabase>();
  for (const FileDescriptorProto& file : set.file()) {
    if (!out->files->Add(file)) {
      *error = path + ": " + file.name() + " appears twice";
      return false;
    }
  }
  out->compiled_in =
      std::make_unique<google::protobuf::DescriptorPoolDatabase>(*google::protobuf::DescriptorPool::generated_pool());
  out->merged = std::make_unique<google::protobuf::MergedDescriptorDatabase>(out->files.get(), out->compiled_in.get());
  Errors errors;
  out->pool = std::make_unique<google::protobuf::DescriptorPool>(out->merged.get(), &errors);
  out->contracts.clear();
  for (const FileDescriptorProto& proto_file : set.file()) {
    const FileDescriptor* file = out->pool->FindFileByName(proto_file.name());
    if (file == nullptr) {
      *error = path + ": " + (errors.text().empty() ? proto_file.name() + " does not build" : errors.text());
      if (error->back() == '\n') error->pop_back();
      return false;
    }
    if (!IsContract(file)) continue;
    ContractModel model;
    std::string why;
    if (!BuildContractModel(file, &model, &why)) {
      *error = file->name() + ": " + why;
      return false;
    }
    out->contracts.push_back(std::move(model));
  }
  if (out->contracts.empty()) {
    *error = path + ": no contract in it (a service with option (superline.role) or (superline.server_to_server))";
    return false;
  }
  return true;
}

bool WriteContracts(const std::vector<const ContractInput*>& inputs, const std::string& path, std::string* error) {
  FileDescriptorSet set;
  std::set<std::string> seen;
  for (const ContractInput* input : inputs) {
    for (const ContractModel& contract : input->contracts) AddWithImports(contract.file, true, &seen, &set);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !set.SerializeToOstream(&out) || !out.flush()) {
    *error = path + ": cannot write the descriptor set";
    return false;
  }
  return true;
}

bool WriteDepfile(const std::vector<const ContractInput*>& inputs, const std::string& target, const std::string& path,
                  std::string* error) {
  // Make's syntax: a space in a path is escaped with a backslash.
  auto escape = [](const std::string& p) {
    std::string out;
    for (char c : p) {
      if (c == ' ') out += '\\';
      out += c;
    }
    return out;
  };
  std::string text = escape(target) + ":";
  std::set<std::string> seen;
  for (const ContractInput* input : inputs) {
    for (const std::string& file : input->disk_files) {
      if (seen.insert(file).second) text += " \\\n  " + escape(file);
    }
  }
  std::ofstream out(path, std::ios::trunc);
  if (!out || !(out << text << "\n") || !out.flush()) {
    *error = path + ": cannot write the depfile";
    return false;
  }
  return true;
}

}  // namespace superline::codegen
