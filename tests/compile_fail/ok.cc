// expect-success: the control case; everything here is allowed.
#include "common.h"

namespace cf {
class App final : public CommonImpl {
 public:
  Reply<Count> member_post(Call<Count>&, const Text&) override { return Count(); }
};
void use(shapes::v1::ShapesServer& srv, Conn& conn) {
  Text text;
  srv.room("r").broadcast(Shapes::Shared::kNotice, text);
  srv.publish(Shapes::Shared::kTicker, shapes::v1::Tick());
  srv.for_role(Shapes::kMember).publish(Shapes::Member::kFeed, text);
  (void)conn.emit(Shapes::Member::kPrivate, text);
}
App app;
}  // namespace cf
