#include "net/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <thread>

namespace ct::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// Accepts one connection on a free port and answers it with `answer` (which sees the request);
// with no `answer`, reads the request and keeps the connection open without answering.
class OneShotServer {
 public:
  using Answer = std::function<bhttp::response<bhttp::string_body>(const bhttp::request<bhttp::string_body>&)>;
  explicit OneShotServer(Answer answer) : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      tcp::socket socket(io_);
      acceptor_.accept(socket);
      beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> request;
      beast::error_code ec;
      bhttp::read(socket, buffer, request, ec);
      if (answer && !ec) {
        auto response = answer(request);
        response.prepare_payload();
        bhttp::write(socket, response, ec);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
      }
    });
  }
  ~OneShotServer() { thread_.join(); }
  std::string url(std::string_view scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/path?x=1";
  }

 private:
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

HttpRequest get(std::string_view url) {
  HttpRequest request;
  request.url = url;
  return request;
}

bhttp::response<bhttp::string_body> answer(unsigned status, std::string body) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
  response.body() = std::move(body);
  return response;
}

TEST(HttpClient, GetsWithItsAcceptHeaderAndReturnsStatusAndBody) {
  std::string seen_target, seen_accept;
  OneShotServer server([&](const auto& request) {
    seen_target = std::string(request.target());
    seen_accept = std::string(request[bhttp::field::accept]);
    return answer(200, R"({"@context":{}})");
  });
  const auto url = server.url();
  auto request = get(url);
  request.accept = "application/ld+json";
  auto got = http_exchange(request, std::chrono::milliseconds(2000), 1024);
  ASSERT_TRUE(got.ok()) << got.problem().detail;
  EXPECT_EQ(got->status, 200u);
  EXPECT_EQ(got->body, R"({"@context":{}})");
  EXPECT_EQ(seen_target, "/path?x=1");
  EXPECT_EQ(seen_accept, "application/ld+json");
}

TEST(HttpClient, PostsItsBodyAndAnyStatusIsAnAnswer) {
  std::string seen_body, seen_type;
  OneShotServer server([&](const auto& request) {
    seen_body = request.body();
    seen_type = std::string(request[bhttp::field::content_type]);
    return answer(404, "no such command");
  });
  const auto url = server.url();
  auto request = get(url);
  request.method = "POST";
  request.content_type = "text/plain";
  request.body = "lamp1@dim|40";
  auto got = http_exchange(request, std::chrono::milliseconds(2000), 1024);
  ASSERT_TRUE(got.ok()) << got.problem().detail;
  EXPECT_EQ(got->status, 404u);
  EXPECT_EQ(got->body, "no such command");
  EXPECT_EQ(seen_body, "lamp1@dim|40");
  EXPECT_EQ(seen_type, "text/plain");
}

TEST(HttpClient, ASilentServerCostsTheTimeoutAndNoMore) {
  OneShotServer server(nullptr);
  const auto url = server.url();
  const auto started = std::chrono::steady_clock::now();
  auto got = http_exchange(get(url), std::chrono::milliseconds(200), 1024);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.problem().kind, ProblemKind::ServiceUnavailable);
  EXPECT_NE(got.problem().detail.find("no answer within 200 ms"), std::string::npos) << got.problem().detail;
  EXPECT_LT(took, std::chrono::milliseconds(700));
}

TEST(HttpClient, RefusesAnAnswerLargerThanItsLimit) {
  OneShotServer server([](const auto&) { return answer(200, std::string(5000, 'x')); });
  const auto url = server.url();
  auto got = http_exchange(get(url), std::chrono::milliseconds(2000), 1000);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.problem().kind, ProblemKind::ServiceUnavailable);
}

TEST(HttpClient, HttpsFailsCleanlyAgainstAServerWithoutTls) {
  OneShotServer server(nullptr);  // plain TCP: the TLS handshake cannot succeed
  const auto url = server.url("https");
  auto got = http_exchange(get(url), std::chrono::milliseconds(2000), 1024);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.problem().kind, ProblemKind::ServiceUnavailable);
}

TEST(HttpClient, RefusesWhatIsNotAnHttpUrl) {
  for (const char* url : {"", "not a url", "ftp://example.org/x", "mqtt://127.0.0.1:1883", "http://"}) {
    auto got = http_exchange(get(url), std::chrono::milliseconds(100), 1024);
    ASSERT_FALSE(got.ok()) << url;
    EXPECT_EQ(got.problem().kind, ProblemKind::BadRequestData) << url;
  }
}

TEST(HttpClient, AClosedPortIsUnreachableNotAHang) {
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = probe.local_endpoint().port();
  probe.close();
  const auto url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto got = http_exchange(get(url), std::chrono::milliseconds(2000), 1024);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.problem().kind, ProblemKind::ServiceUnavailable);
}

}  // namespace
}  // namespace ct::net
