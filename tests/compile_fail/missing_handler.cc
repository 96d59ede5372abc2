// expect: Member::Handlers::member_post
// A server that forgot one handler cannot be instantiated; the error names the missing method.
#include "common.h"

namespace cf {
class App final : public CommonImpl {};
App app;
}  // namespace cf
