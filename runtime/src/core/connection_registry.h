// This node's open connections by id, and how many of each role.
// Thread-safety: every method from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "superline/conn.h"

namespace superline {

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(std::size_t roles) : by_role_(roles) {}

  // False, adding nothing, when the id is already in use.
  bool add(const std::shared_ptr<Conn>& conn);
  // False when it was not (or no longer) registered.
  bool remove(const Conn& conn);
  std::shared_ptr<Conn> find(std::string_view conn_id) const;
  std::size_t size() const;
  // Open connections per role index.
  std::vector<std::size_t> count_by_role() const;
  std::vector<std::shared_ptr<Conn>> snapshot() const;

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Conn>> conns_ ABSL_GUARDED_BY(mu_);
  std::vector<std::size_t> by_role_ ABSL_GUARDED_BY(mu_);
};

}  // namespace superline
