// expect: for_role\(R\).publish takes role R's own topics only
#include "common.h"

namespace cf {
void use(shapes::v1::ShapesServer& srv) {
  srv.for_role(Shapes::kMember).publish(Shapes::Admin::kAudit, Text());  // the admin's topic
}
}  // namespace cf
