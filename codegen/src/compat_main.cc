// superline-compat OLD NEW: what NEW breaks for clients and nodes still on OLD (see compat.h).
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "compat.h"
#include "contract_id.h"
#include "contract_input.h"

namespace {

using namespace superline::codegen;

constexpr char kUsage[] =
    "usage: superline-compat [options] OLD NEW\n"
    "       superline-compat [-I DIR]... --descriptor_set_out=FILE [--dependency_out=FILE] INPUT...\n"
    "\n"
    "Reports what the contract NEW breaks for clients and nodes still running OLD, one line per\n"
    "finding (file:line: RULE [what it breaks]: what changed), and exits 1 when anything breaks,\n"
    "0 when nothing does, 2 when an input cannot be read.\n"
    "\n"
    "OLD and NEW are each a FileDescriptorSet (protoc --include_imports --descriptor_set_out=FILE)\n"
    "or a .proto file. A finding breaks one or more of: wire (the binary protobuf wire), json (the\n"
    "superline.v1 JSON wire), source (code written against the generated API).\n"
    "\n"
    "With --descriptor_set_out, writes the contracts of the INPUTs (.proto files or descriptor\n"
    "sets) as one FileDescriptorSet, with source info and without superline's and protobuf's own\n"
    "files: the baseline to commit and compare the next release against.\n"
    "\n"
    "options:\n"
    "  -I DIR, --proto_path=DIR  where a .proto input's imports are found (its own directory too)\n"
    "  --breaks=LIST             which breaks fail the check: a comma list of wire, json, source\n"
    "                            (default: all three; wire,json for a rolling deploy of\n"
    "                            unchanged client code)\n"
    "  --quiet                   print the findings only, no summary\n"
    "  --dependency_out=FILE     with --descriptor_set_out: also write a depfile naming every file\n"
    "                            read, as protoc's option of the same name does\n";

int Usage(const std::string& why) {
  std::cerr << "superline-compat: " << why << "\n\n" << kUsage;
  return 2;
}

bool ParseBreaks(const std::string& list, unsigned* out) {
  *out = 0;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string word = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (word == "wire") {
      *out |= kWire;
    } else if (word == "json") {
      *out |= kJson;
    } else if (word == "source") {
      *out |= kSource;
    } else {
      return false;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return *out != 0;
}

// Pairs the contracts of OLD and NEW: by file name, or the only one of each when both hold one.
const ContractModel* Counterpart(const ContractInput& now, const ContractModel& was, const ContractInput& old) {
  for (const ContractModel& c : now.contracts) {
    if (c.file->name() == was.file->name()) return &c;
  }
  if (old.contracts.size() == 1 && now.contracts.size() == 1) return &now.contracts[0];
  return nullptr;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::vector<std::string> import_dirs;
  std::vector<std::string> inputs;
  unsigned counted = kWire | kJson | kSource;
  bool quiet = false;
  std::string set_out;
  std::string depfile;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "-I" || arg == "--proto_path") {
      if (++i == argc) return Usage(arg + " needs a directory");
      import_dirs.push_back(argv[i]);
    } else if (arg.rfind("-I", 0) == 0) {
      import_dirs.push_back(arg.substr(2));
    } else if (arg.rfind("--proto_path=", 0) == 0) {
      import_dirs.push_back(arg.substr(std::strlen("--proto_path=")));
    } else if (arg.rfind("--breaks=", 0) == 0) {
      if (!ParseBreaks(arg.substr(std::strlen("--breaks=")), &counted)) {
        return Usage("--breaks takes a comma list of wire, json, source (got \"" + arg + "\")");
      }
    } else if (arg.rfind("--descriptor_set_out=", 0) == 0) {
      set_out = arg.substr(std::strlen("--descriptor_set_out="));
    } else if (arg.rfind("--dependency_out=", 0) == 0) {
      depfile = arg.substr(std::strlen("--dependency_out="));
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return Usage("unknown option " + arg);
    } else {
      inputs.push_back(arg);
    }
  }
  std::string error;
  if (!set_out.empty()) {
    if (inputs.empty()) return Usage("--descriptor_set_out needs at least one input");
    std::vector<ContractInput> loaded(inputs.size());
    std::vector<const ContractInput*> all;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!LoadContracts(inputs[i], import_dirs, &loaded[i], &error)) {
        std::cerr << "superline-compat: " << error << "\n";
        return 2;
      }
      all.push_back(&loaded[i]);
    }
    if (!WriteContracts(all, set_out, &error) || (!depfile.empty() && !WriteDepfile(all, set_out, depfile, &error))) {
      std::cerr << "superline-compat: " << error << "\n";
      return 2;
    }
    return 0;
  }
  if (inputs.size() != 2) return Usage("takes two inputs, OLD and NEW");

  ContractInput old_input, new_input;
  if (!LoadContracts(inputs[0], import_dirs, &old_input, &error) ||
      !LoadContracts(inputs[1], import_dirs, &new_input, &error)) {
    std::cerr << "superline-compat: " << error << "\n";
    return 2;
  }

  std::vector<Finding> findings;
  for (const ContractModel& was : old_input.contracts) {
    const ContractModel* now = Counterpart(new_input, was, old_input);
    if (now == nullptr) {
      findings.push_back(Finding{was.file->name(), 0, "CONTRACT_REMOVED", kWire | kJson | kSource,
                                 "contract " + ContractId(was) + " is not in " + inputs[1]});
      continue;
    }
    for (Finding& f : CompareContracts(was, *now)) findings.push_back(std::move(f));
  }

  int breaking = 0;
  for (const Finding& f : findings) {
    const bool counts = (f.breaks & counted) != 0;
    breaking += counts ? 1 : 0;
    std::cout << FormatFinding(f) << (counts ? "" : " (not counted: --breaks=" + FormatBreaks(counted) + ")")
              << "\n";
  }
  if (!quiet) {
    std::string ids;
    for (const ContractModel& c : new_input.contracts) ids += (ids.empty() ? "" : ", ") + ContractId(c);
    std::cerr << "superline-compat: " << (breaking == 0 ? "compatible" : std::to_string(breaking) + " breaking change" +
                                                                          (breaking == 1 ? "" : "s"))
              << " (" << FormatBreaks(counted) << " counted); new contract " << ids << "\n";
  }
  return breaking == 0 ? 0 : 1;
}
