// Files served from one directory on the WebSocket port, for a page and its scripts (the chat demo):
// GET or HEAD of a request that is not an upgrade. Nothing outside the directory is reachable: the
// path is percent-decoded once, a segment that is "..", "." or hidden (".git") is refused, and the
// file's real path, symlinks resolved, must lie inside the directory's. A directory is served as its
// index.html, never listed.
// Thread-safety: immutable after construction; resolve() may be called from any thread.
#pragma once

#include <boost/beast/http/status.hpp>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace superline {

class StaticFiles {
 public:
  struct File {
    std::filesystem::path path;  // real path, inside the root
    std::string_view content_type;
  };
  struct Miss {
    boost::beast::http::status status;  // 400 a target that cannot be read, else 404
  };

  // Fails when `root` is not a directory.
  static absl::StatusOr<StaticFiles> open(const std::string& root);

  // The file for a request target ("/app.js?v=2"), or why not. A miss never says whether something
  // exists outside the root.
  bool resolve(std::string_view target, File* file, Miss* miss) const;

  // "text/html; charset=utf-8" for index.html, ... "application/octet-stream" for what it does not know.
  static std::string_view content_type(const std::filesystem::path& path);

 private:
  explicit StaticFiles(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;  // canonical
};

}  // namespace superline
