// What a change to a contract breaks for clients and nodes already running the old one: the rules of
// superline-compat. Each finding names where it is (file, line when the input carries source info,
// role, method, message, field), the rule, and which of three things it breaks:
//   wire   - the binary protobuf wire (superline.pb.v1) between old and new peers,
//   json   - the superline.v1 JSON wire,
//   source - code written against the generated API (C++ or TypeScript), on regeneration.
// Additions (roles, methods, fields, enum values) break nothing and are not reported.
#pragma once

#include <string>
#include <vector>

#include "contract_model.h"

namespace superline::codegen {

enum Breaks : unsigned { kWire = 1, kJson = 2, kSource = 4 };

struct Finding {
  std::string file;
  int line = 0;  // 1-based; 0 when the input has no source info
  std::string rule;
  unsigned breaks = 0;  // Breaks bits
  std::string message;
};

std::vector<Finding> CompareContracts(const ContractModel& old_contract, const ContractModel& new_contract);

// "chat.proto:14: FIELD_RENAMED [json, source]: ..." (no line number when there is none).
std::string FormatFinding(const Finding& finding);
std::string FormatBreaks(unsigned breaks);

}  // namespace superline::codegen
