// expect: Agent::ClientHandlers::confirm
// A client that does not answer one of its role's server requests cannot be made; the error names it.
#include "desk.superline.h"

namespace cf {
class Answers final : public desk::v1::Desk::Agent::ClientHandlers {
 public:
  absl::StatusOr<desk::v1::PingReply> ping(const desk::v1::PingRequest&) override { return desk::v1::PingReply(); }
};
void connect() {
  Answers answers;
  desk::v1::DeskAgentClient client(superline::ClientOptions{}, answers);
}
}  // namespace cf
