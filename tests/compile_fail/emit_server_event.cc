// expect: emit_server takes a server-to-server event of the contract
#include "common.h"

namespace cf {
void use(shapes::v1::ShapesServer& srv) {
  srv.emit_server(Shapes::Shared::kNotice, Text());  // a client-facing event, not a node event
}
}  // namespace cf
