// expect: this message is not in the client role's surface
#include "common.h"

namespace cf {
void use(shapes::v1::ShapesMemberClient& client) {
  (void)client.subscribe(Shapes::Admin::kAudit, [](const Text&) {});
}
}  // namespace cf
