// Fresh ids for nodes and connections: random (version 4) UUIDs.
// Thread-safety: any thread (one generator per thread).
#pragma once

#include <string>

namespace superline {

std::string random_uuid();

}  // namespace superline
