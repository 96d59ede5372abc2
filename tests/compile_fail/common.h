// A complete shapes server, for the compile-fail cases to misuse one thing at a time.
#pragma once

#include "shapes.superline.h"

namespace cf {

using shapes::v1::Count;
using shapes::v1::Shapes;
using shapes::v1::Text;
using superline::Conn;
using superline::Reply;
using superline::RoleConn;
template <class T>
using SharedCall = superline::Call<T, Shapes::Shared>;

class CommonImpl : public Shapes::Handlers {
 public:
  Reply<Text> echo(SharedCall<Text>&, const Text& t) override { return t; }
  Reply<Text> slow(SharedCall<Text>&, const Text& t) override { return t; }
  Reply<Text> crash(SharedCall<Text>&, const Text& t) override { return t; }
  Reply<Count> limited(SharedCall<Count>&, const Text&) override { return Count(); }
  Reply<google::protobuf::Empty> dropped(SharedCall<google::protobuf::Empty>&, const Text&) override {
    return google::protobuf::Empty();
  }
  void poke(RoleConn<Shapes::Shared>, const Text&) override {}
  Reply<Count> admin_post(superline::Call<Count, Shapes::Admin>&, const Text&) override { return Count(); }
};

}  // namespace cf
