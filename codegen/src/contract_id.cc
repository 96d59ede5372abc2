#include "contract_id.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <map>
#include <set>
#include <vector>

#include "contract_model.h"

namespace superline::codegen {
namespace {

using google::protobuf::FileDescriptor;

void Collect(const FileDescriptor* file, std::map<std::string, const FileDescriptor*>* out) {
  if (IsToolingFile(file->name()) || out->count(file->name()) != 0) return;
  (*out)[file->name()] = file;
  for (int i = 0; i < file->dependency_count(); ++i) Collect(file->dependency(i), out);
}

std::string Canonical(const FileDescriptor* file) {
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  file->CopyJsonNameTo(&proto);
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  proto.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

}  // namespace

bool IsToolingFile(const std::string& name) {
  return name == "superline/options.proto" || name.rfind("google/protobuf/", 0) == 0;
}

std::string ContractId(const ContractModel& model) {
  std::map<std::string, const FileDescriptor*> files;
  Collect(model.file, &files);

  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const auto& [name, file] : files) {
    // Length-prefixed, so two files' bytes cannot be regrouped into the same stream.
    const std::string bytes = Canonical(file);
    const std::string size = std::to_string(bytes.size()) + ":";
    EVP_DigestUpdate(ctx, size.data(), size.size());
    EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);

  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = model.file->package().empty() ? model.name : model.file->package() + "." + model.name;
  id += '@';
  for (int i = 0; i < 8; ++i) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 0xf];
  }
  return id;
}

}  // namespace superline::codegen
