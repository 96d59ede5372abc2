// The upgrade request before the application sees it: RFC 6455's requirements, how an
// authenticator's refusal is answered, and the checked query parameters.
#include "handshake.h"

#include <gtest/gtest.h>

namespace superline {
namespace {

namespace http = boost::beast::http;

UpgradeRequest upgrade(std::string_view target = "/?role=user&name=a") {
  UpgradeRequest request(http::verb::get, std::string(target), 11);
  request.set(http::field::host, "example.com");
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::sec_websocket_version, "13");
  request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  return request;
}

TEST(Handshake, AcceptsWhatRfc6455Requires) { EXPECT_FALSE(check_upgrade(upgrade()).has_value()); }

TEST(Handshake, RefusesWhatRfc6455Forbids) {
  auto no_host = upgrade();
  no_host.erase(http::field::host);
  EXPECT_EQ(check_upgrade(no_host)->status, http::status::bad_request);
  auto old_version = upgrade();
  old_version.set(http::field::sec_websocket_version, "8");
  EXPECT_EQ(check_upgrade(old_version)->status, http::status::upgrade_required);
  auto post = upgrade();
  post.method(http::verb::post);
  EXPECT_EQ(check_upgrade(post)->status, http::status::bad_request);
  auto http10 = upgrade();
  http10.version(10);
  EXPECT_EQ(check_upgrade(http10)->status, http::status::bad_request);
}

TEST(Handshake, TheKeyIsSixteenBytesOfBase64) {
  EXPECT_TRUE(valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  for (const char* bad : {"", "dGhlIHNhbXBsZSBub25jZQ", "AAAAAAAAAAAAAAAAAAAAAAAA", "dGhlIHNhbXBsZSBub25jZQ=!",
                          "dGhlIHNhbXBsZSBub25j*Q==", "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZ==="}) {
    EXPECT_FALSE(valid_websocket_key(bad)) << bad;
  }
}

TEST(Handshake, RefusalsMapToHttpStatuses) {
  EXPECT_EQ(refusal_status(absl::UnauthenticatedError("x")), http::status::unauthorized);
  EXPECT_EQ(refusal_status(absl::InvalidArgumentError("x")), http::status::bad_request);
  EXPECT_EQ(refusal_status(absl::PermissionDeniedError("x")), http::status::forbidden);
  EXPECT_EQ(refusal_status(absl::ResourceExhaustedError("x")), http::status::too_many_requests);
  EXPECT_EQ(refusal_status(absl::UnavailableError("x")), http::status::service_unavailable);
  EXPECT_EQ(refusal_status(absl::InternalError("x")), http::status::unauthorized);
}

TEST(Handshake, QueryParametersAreCheckedText) {
  const Handshake h = read_handshake(
      upgrade("/?name=%C3%A9l%C3%A8ne&crlf=a%0D%0Ab&nul=a%00b&bad=%FF%FEx&esc=%1B&c1=%C2%85&plus=a+b&"
              "malformed=%zz"),
      "127.0.0.1");
  EXPECT_EQ(h.query_param("name").value(), "\xc3\xa9l\xc3\xa8ne");
  EXPECT_EQ(h.query_param("plus").value(), "a b");
  EXPECT_EQ(h.query_param("malformed").value(), "%zz");  // kept as sent: it is text
  EXPECT_EQ(h.query_param("absent").value(), "");
  for (const char* name : {"crlf", "nul", "bad", "esc", "c1"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(h.query_param(name).status())) << name;
  }
  EXPECT_EQ(h.raw_query_param("bad"), "\xff\xfex");  // the bytes, for whoever asks for them
}

TEST(Handshake, TheSwitchingProtocolsAnswerCarriesRfc6455sAcceptKey) {
  const UpgradeRequest request = upgrade();  // the key of RFC 6455 §1.3
  EXPECT_EQ(switching_protocols(request, "", ""),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nServer: superline\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_NE(switching_protocols(request, "superline.pb.v1", "").find("\r\nSec-WebSocket-Protocol: superline.pb.v1\r\n\r\n"),
            std::string::npos);
  EXPECT_NE(switching_protocols(request, "", "chat.Chat@0123456789abcdef")
                .find("\r\nSuperline-Contract: chat.Chat@0123456789abcdef\r\n\r\n"),
            std::string::npos);
}

TEST(Handshake, OriginsAreCheckedOnlyAgainstAList) {
  EXPECT_TRUE(origin_allowed("https://evil.example", {}));
  EXPECT_TRUE(origin_allowed("", {"https://app.example"}));  // not a browser
  EXPECT_TRUE(origin_allowed("https://app.example", {"https://app.example"}));
  EXPECT_FALSE(origin_allowed("https://evil.example", {"https://app.example"}));
}

}  // namespace
}  // namespace superline
