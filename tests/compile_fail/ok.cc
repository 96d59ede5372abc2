// expect-success: the control case; everything here is allowed.
#include "common.h"

namespace cf {
class App final : public CommonImpl {
 public:
  Reply<Count> member_post(superline::Call<Count, Shapes::Member>& call, const Text& text) override {
    (void)call.conn().emit(Shapes::Member::kPrivate, text);  // the member's own event
    (void)call.conn().emit(Shapes::Shared::kNotice, text);   // and every shared one
    return Count();
  }
  void on_sync(const Count&, std::string_view) override {}
};
// A shared handler's connection may be of any role: a role's event goes through the run-time check.
void shared_handler(RoleConn<Shapes::Shared> conn) { (void)conn.untyped().emit(Shapes::Member::kPrivate, Text()); }
void use(shapes::v1::ShapesServer& srv, Conn& conn) {
  Text text;
  srv.room("r").broadcast(Shapes::Shared::kNotice, text);
  srv.publish(Shapes::Shared::kTicker, shapes::v1::Tick());
  srv.for_role(Shapes::kMember).publish(Shapes::Member::kFeed, text);
  (void)conn.emit(Shapes::Member::kPrivate, text);
}
App app;
}  // namespace cf
