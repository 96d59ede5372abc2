// expect: conn.request: this server request is not in the surface of the role these handlers serve
// A visitor's handlers cannot ask their connection an agent's server request.
#include "desk.superline.h"

namespace cf {
using desk::v1::Desk;
void ask(superline::RoleConn<Desk::Visitor> conn) {
  conn.request(Desk::Agent::kConfirm, desk::v1::Question(), [](absl::StatusOr<desk::v1::Answer>) {});
}
}  // namespace cf
