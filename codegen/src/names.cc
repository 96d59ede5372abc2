#include "names.h"

#include <set>

namespace superline::codegen {

bool IsCppKeyword(std::string_view name) {
  // C++20's keywords and alternative tokens; final and override are not reserved, but as member
  // names next to virtual functions they only mislead.
  static const std::set<std::string_view> kKeywords = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
      "catch", "char", "char16_t", "char32_t", "char8_t", "class", "co_await", "co_return", "co_yield",
      "compl", "concept", "const", "const_cast", "consteval", "constexpr", "constinit", "continue",
      "decltype", "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit",
      "export", "extern", "false", "final", "float", "for", "friend", "goto", "if", "import", "inline",
      "int", "long", "module", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr",
      "operator", "or", "or_eq", "override", "private", "protected", "public", "register",
      "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static", "static_assert",
      "static_cast", "struct", "switch", "template", "this", "thread_local", "throw", "true", "try",
      "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
      "wchar_t", "while", "xor", "xor_eq"};
  return kKeywords.count(name) > 0;
}

bool IsGeneratedMember(std::string_view name) {
  // superline::ContractClient (client.h), the alias the generated call mixins derive through, and
  // the generated Handlers' server().
  static const std::set<std::string_view> kMembers = {
      "Base",      "async_call", "async_subscribe", "call",   "check_surface", "close",       "connect",
      "connected", "core",       "on",              "server", "send_event",    "subscribe",   "timeout",
      "unsubscribe", "with_role", "contract_id", "server_contract", "answer", "env", "on_env"};
  return kMembers.count(name) > 0;
}

bool IsRoleStructMember(std::string_view tag_name) {
  return tag_name == "Handlers" || tag_name == "ClientHandlers" || tag_name == "Env" || tag_name == "Role" ||
         tag_name == "RoleIndex";
}

std::string EscapeCppName(const std::string& name) {
  return IsCppKeyword(name) || IsGeneratedMember(name) ? name + "_" : name;
}

bool IsTsReserved(std::string_view name) {
  static const std::set<std::string_view> kWords = {
      // ECMAScript reserved words and strict-mode future reserved words.
      "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
      "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally", "for", "function",
      "if", "implements", "import", "in", "instanceof", "interface", "let", "new", "null", "package",
      "private", "protected", "public", "return", "static", "super", "switch", "this", "throw", "true",
      "try", "typeof", "var", "void", "while", "with", "yield",
      // TypeScript's own, and what every object or the client base class already has.
      "any", "as", "boolean", "constructor", "declare", "keyof", "module", "namespace", "never", "number",
      "object", "readonly", "string", "symbol", "type", "undefined", "unique", "unknown",
      // @superline/client's ContractClient (contract.ts), and `then`, which would make a client
      // look like a promise to `await`.
      "close", "connected", "contract", "env", "on", "onEnv", "ready", "serverContract", "subscribe", "then", "toString", "valueOf",
      "hasOwnProperty"};
  return kWords.count(name) > 0;
}

std::string EscapeTsName(const std::string& name) { return IsTsReserved(name) ? name + "_" : name; }

}  // namespace superline::codegen
