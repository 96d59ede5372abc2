// expect: conn.emit: this event is not in the surface of the role these handlers serve
// An admin handler's connection is an admin's: a member-only event does not compile.
#include "common.h"

namespace cf {
class App final : public CommonImpl {
 public:
  Reply<Count> member_post(superline::Call<Count, Shapes::Member>&, const Text&) override { return Count(); }
  Reply<Count> admin_post(superline::Call<Count, Shapes::Admin>& call, const Text& text) override {
    (void)call.conn().emit(Shapes::Member::kPrivate, text);
    return Count();
  }
  void on_sync(const Count&, std::string_view) override {}
};
App app;
}  // namespace cf
