// expect: ServerToServer::Handlers::on_sync
// Node-to-node events are handled like requests: a server that forgot one cannot be instantiated.
#include "common.h"

namespace cf {
class App final : public CommonImpl {
 public:
  Reply<Count> member_post(superline::Call<Count, Shapes::Member>&, const Text&) override { return Count(); }
};
App app;
}  // namespace cf
