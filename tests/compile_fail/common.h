// A complete shapes server, for the compile-fail cases to misuse one thing at a time.
#pragma once

#include "shapes.superline.h"

namespace cf {

using shapes::v1::Count;
using shapes::v1::Shapes;
using shapes::v1::Text;
using superline::Call;
using superline::Conn;
using superline::Reply;

class CommonImpl : public Shapes::Handlers {
 public:
  Reply<Text> echo(Call<Text>&, const Text& t) override { return t; }
  Reply<Text> slow(Call<Text>&, const Text& t) override { return t; }
  Reply<Text> crash(Call<Text>&, const Text& t) override { return t; }
  Reply<Count> limited(Call<Count>&, const Text&) override { return Count(); }
  Reply<google::protobuf::Empty> dropped(Call<google::protobuf::Empty>&, const Text&) override {
    return google::protobuf::Empty();
  }
  void poke(Conn&, const Text&) override {}
  Reply<Count> admin_post(Call<Count>&, const Text&) override { return Count(); }
};

}  // namespace cf
