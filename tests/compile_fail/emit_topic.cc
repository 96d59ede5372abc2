// expect: conn.emit takes a server event of the contract
#include "common.h"

namespace cf {
void use(Conn& conn) { (void)conn.emit(Shapes::Shared::kTicker, shapes::v1::Tick()); }
}  // namespace cf
