// expect: publish takes shared topics only; publish a role's topic with for_role\(R\).publish
#include "common.h"

namespace cf {
void use(shapes::v1::ShapesServer& srv) { srv.publish(Shapes::Member::kFeed, Text()); }
}  // namespace cf
