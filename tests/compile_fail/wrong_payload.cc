// expect: the payload type does not match the message type the contract declares for this tag
#include "common.h"

namespace cf {
void use(shapes::v1::ShapesServer& srv) {
  srv.room("r").broadcast(Shapes::Shared::kNotice, Count());  // Notice carries Text
}
}  // namespace cf
