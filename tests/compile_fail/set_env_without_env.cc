// expect: set_env
// A role without option (superline.env) has no env to set.
#include "desk.superline.h"

namespace cf {
using desk::v1::Desk;
void move(superline::RoleConn<Desk::Visitor> conn) { conn.set_env(desk::v1::AgentEnv()).IgnoreError(); }
}  // namespace cf
