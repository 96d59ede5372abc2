// expect: room broadcast takes shared events only
#include "common.h"

namespace cf {
void use(shapes::v1::ShapesServer& srv) {
  srv.room("r").broadcast(Shapes::Member::kPrivate, Text());  // a member-only event
}
}  // namespace cf
