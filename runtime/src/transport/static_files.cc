#include "static_files.h"

#include <system_error>

namespace superline {
namespace fs = std::filesystem;
namespace http = boost::beast::http;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes only ('+' is a plus in a path); false on a malformed escape or a NUL.
bool decode_path(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

}  // namespace

absl::StatusOr<StaticFiles> StaticFiles::open(const std::string& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return absl::InvalidArgumentError("static directory '" + root + "' is not a directory");
  }
  return StaticFiles(std::move(canonical));
}

bool StaticFiles::resolve(std::string_view target, File* file, Miss* miss) const {
  miss->status = http::status::not_found;
  const size_t query = target.find_first_of("?#");
  if (query != std::string_view::npos) target = target.substr(0, query);
  std::string path;
  if (target.empty() || target.front() != '/' || !decode_path(target, &path)) {
    miss->status = http::status::bad_request;
    return false;
  }
  // Segment by segment on the decoded path, so "%2e%2e" is refused as ".." is; a backslash is no
  // separator here but is one to some clients and proxies, so it is refused too.
  fs::path relative;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment(path.data() + start, end - start);
    if (!segment.empty()) {
      if (segment.front() == '.' || segment.find('\\') != std::string_view::npos) return false;
      relative /= fs::path(std::string(segment));
    }
    start = end + 1;
  }
  std::error_code ec;
  fs::path candidate = root_ / relative;
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  const fs::path real = fs::canonical(candidate, ec);
  if (ec || !fs::is_regular_file(real, ec)) return false;
  // Inside the root once symlinks are resolved: the root itself is canonical, so a prefix of whole
  // components says it.
  auto r = root_.begin();
  auto p = real.begin();
  for (; r != root_.end(); ++r, ++p) {
    if (p == real.end() || *p != *r) return false;
  }
  file->path = real;
  file->content_type = content_type(real);
  return true;
}

std::string_view StaticFiles::content_type(const fs::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".map" || ext == ".json") return "application/json";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".wasm") return "application/wasm";
  return "application/octet-stream";
}

}  // namespace superline
