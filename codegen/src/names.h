// The names generated code cannot give a contract's methods as they are, in one place: C++ and
// TypeScript reserved words, and the members the generated classes and the runtime classes they
// derive from already have. The model escapes what collides (a trailing underscore, as protobuf does for field
// accessors) or refuses it; printers only print the names the model chose.
#pragma once

#include <string>
#include <string_view>

namespace superline::codegen {

bool IsCppKeyword(std::string_view name);

// Members the generated classes have besides a contract's methods: a role client's (ContractClient
// and the call mixins': connect, close, on, subscribe, ...) and a Handlers interface's (server()). A
// request or client event of such a name would hide them.
bool IsGeneratedMember(std::string_view name);

// Names a tag type takes inside a role's struct besides the tags: the Handlers interface and the
// role constants (kRole, kRoleIndex, through the tag's k-constant).
bool IsRoleStructMember(std::string_view tag_name);

// `name`, or `name` + "_" when it is a C++ keyword or a generated member. One rule for the handler
// and the client method alike: rpc Close is close_() on both.
std::string EscapeCppName(const std::string& name);

// TypeScript's reserved words (ES2015 strict mode, plus TypeScript's own) and the members of the
// TypeScript client's base class, for the lang=ts printer: a method name (lowerCamel, the wire
// name) that is one gets a trailing underscore there too.
bool IsTsReserved(std::string_view name);
std::string EscapeTsName(const std::string& name);

}  // namespace superline::codegen
