// chat_server --static DIR: files on the WebSocket's port, and nothing outside DIR.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ws_test_client.h"

namespace e2e {
namespace {

namespace fs = std::filesystem;

HttpResponse get(uint16_t port, const std::string& target, const std::string& method = "GET") {
  return http_request(port, target, method);
}

class StaticServing : public ::testing::Test {
 protected:
  static fs::path make_site() {
    const fs::path base = fs::temp_directory_path() / ("superline-site-" + std::to_string(getpid()));
    fs::remove_all(base);
    fs::create_directories(base / "www" / "assets");
    std::ofstream(base / "www" / "index.html") << "<!doctype html><p>chat</p>";
    std::ofstream(base / "www" / "assets" / "app.js") << "console.log(1)";
    std::ofstream(base / "www" / "assets" / "app.js.map") << "{}";
    std::ofstream(base / "www" / "style.css") << "p{}";
    std::ofstream(base / "private.txt") << "outside";
    fs::create_symlink(base / "private.txt", base / "www" / "link.txt");
    return base;
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_ = make_site();
  ChatServerProcess server_{{"--static", (base_ / "www").string()}};
};

TEST_F(StaticServing, ServesFilesWithTheirContentType) {
  auto page = get(server_.port(), "/");
  EXPECT_EQ(page.status, "HTTP/1.1 200 OK");
  EXPECT_NE(page.head.find("Content-Type: text/html; charset=utf-8"), std::string::npos) << page.head;
  EXPECT_EQ(page.body, "<!doctype html><p>chat</p>");
  auto js = get(server_.port(), "/assets/app.js?v=1");
  EXPECT_EQ(js.status, "HTTP/1.1 200 OK");
  EXPECT_NE(js.head.find("Content-Type: text/javascript; charset=utf-8"), std::string::npos) << js.head;
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_NE(get(server_.port(), "/style.css").head.find("Content-Type: text/css"), std::string::npos);
  EXPECT_NE(get(server_.port(), "/assets/app.js.map").head.find("Content-Type: application/json"),
            std::string::npos);
  auto head = get(server_.port(), "/index.html", "HEAD");
  EXPECT_EQ(head.status, "HTTP/1.1 200 OK");
  EXPECT_NE(head.head.find("Content-Length: 26"), std::string::npos) << head.head;
  EXPECT_EQ(head.body, "");
}

TEST_F(StaticServing, NothingOutsideTheDirectoryNoListing) {
  for (const char* target : {"/../private.txt", "/%2e%2e/private.txt", "/assets/%2E%2E/%2e%2e/private.txt",
                             "/link.txt", "/assets/", "/missing.html"}) {
    auto r = get(server_.port(), target);
    EXPECT_EQ(r.status, "HTTP/1.1 404 Not Found") << target;
    EXPECT_EQ(r.body.find("outside"), std::string::npos) << target;
  }
  EXPECT_EQ(get(server_.port(), "/%zz").status, "HTTP/1.1 400 Bad Request");
  auto post = get(server_.port(), "/index.html", "POST");
  EXPECT_EQ(post.status, "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.head.find("Allow: GET, HEAD"), std::string::npos);
}

TEST_F(StaticServing, TheWebSocketStillUpgradesOnTheSamePort) {
  auto client = WsTestClient::open(server_.port(), "/?role=user&name=a");
  EXPECT_EQ(client->request("join", R"({"room":"lobby"})"), R"({"t":"res","i":1001,"d":{"ok":true,"members":1}})");
}

TEST(StaticServingOff, APlainGetIsStill400) {
  ChatServerProcess server;
  EXPECT_EQ(get(server.port(), "/index.html").status, "HTTP/1.1 400 Bad Request");
}

}  // namespace
}  // namespace e2e
