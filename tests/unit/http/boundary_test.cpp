// The HTTP error boundary: handlers return an Outcome, the router answers once, and every problem
// kind becomes its status, NGSI-LD type, title and headers in one place (http/problem_mapping).
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "http/problem_mapping.hpp"
#include "http/router.hpp"

namespace ct::http {
namespace {

using beast_http::verb;

// Every response a request got, from whichever thread sent it.
class Answers {
 public:
  Reply reply() {
    return [this](Response&& response) {
      std::lock_guard lock(mutex_);
      responses_.push_back(std::move(response));
    };
  }
  std::vector<Response> taken() {
    std::lock_guard lock(mutex_);
    return responses_;
  }

 private:
  std::mutex mutex_;
  std::vector<Response> responses_;
};

Request get(std::string target) {
  Request request{verb::get, target, 11};
  return request;
}

json::object body_of(const Response& response) { return json::parse(response.body()).as_object(); }

std::string header(const Response& response, beast_http::field field) {
  auto it = response.find(field);
  return it == response.end() ? std::string() : std::string(it->value().data(), it->value().size());
}

// What ETSI GS CIM 009 (clause 5.5.2) and RFC 9110 say each kind answers with.
struct Expected {
  ProblemKind kind;
  unsigned status;
  std::string type;
  std::string retry_after;
};
const std::string kErrors = "https://uri.etsi.org/ngsi-ld/errors/";
const std::vector<Expected> kExpected = {
    {ProblemKind::InvalidRequest, 400, kErrors + "InvalidRequest", ""},
    {ProblemKind::BadRequestData, 400, kErrors + "BadRequestData", ""},
    {ProblemKind::AlreadyExists, 409, kErrors + "AlreadyExists", ""},
    {ProblemKind::Conflict, 409, "about:blank", ""},
    {ProblemKind::OperationNotSupported, 422, kErrors + "OperationNotSupported", ""},
    {ProblemKind::ResourceNotFound, 404, kErrors + "ResourceNotFound", ""},
    {ProblemKind::InternalError, 500, kErrors + "InternalError", ""},
    {ProblemKind::TooComplexQuery, 403, kErrors + "TooComplexQuery", ""},
    {ProblemKind::TooManyResults, 403, kErrors + "TooManyResults", ""},
    {ProblemKind::NoMultiTenantSupport, 501, kErrors + "NoMultiTenantSupport", ""},
    {ProblemKind::NonexistentTenant, 404, kErrors + "NonexistentTenant", ""},
    {ProblemKind::LdContextNotAvailable, 503, kErrors + "LdContextNotAvailable", ""},
    {ProblemKind::PayloadTooLarge, 413, "about:blank", ""},
    {ProblemKind::UnsupportedMediaType, 415, "about:blank", ""},
    {ProblemKind::NotAcceptable, 406, "about:blank", ""},
    {ProblemKind::MethodNotAllowed, 405, "about:blank", ""},
    {ProblemKind::ServiceUnavailable, 503, "about:blank", "1"},
    {ProblemKind::InsufficientStorage, 507, "about:blank", "5"},
};

TEST(ErrorBoundary, TheTableCoversEveryKind) {
  ASSERT_EQ(kExpected.size(), static_cast<std::size_t>(kProblemKindCount));
  for (int i = 0; i < kProblemKindCount; ++i) EXPECT_EQ(kExpected[static_cast<std::size_t>(i)].kind, static_cast<ProblemKind>(i));
}

TEST(ErrorBoundary, EveryKindAHandlerReturnsMapsToItsStatusTypeAndHeaders) {
  for (const auto& expected : kExpected) {
    SCOPED_TRACE(std::string(kind_name(expected.kind)));
    Router router;
    router.add(verb::get, "/x", [&](Call&) -> Outcome { return Problem{expected.kind, "what went wrong"}; });
    Answers answers;
    router.handle(get("/x"), answers.reply());
    const auto responses = answers.taken();
    ASSERT_EQ(responses.size(), 1u);
    const Response& response = responses.front();
    EXPECT_EQ(response.result_int(), expected.status);
    EXPECT_EQ(header(response, beast_http::field::content_type), "application/json");
    EXPECT_EQ(header(response, beast_http::field::retry_after), expected.retry_after);
    const auto body = body_of(response);
    EXPECT_EQ(std::string(body.at("type").as_string()), expected.type);
    EXPECT_EQ(body.at("status").as_int64(), static_cast<std::int64_t>(expected.status));
    EXPECT_EQ(std::string(body.at("title").as_string()), http_problem_type(expected.kind).title);
    EXPECT_FALSE(body.at("title").as_string().empty());
    EXPECT_EQ(std::string(body.at("detail").as_string()), "what went wrong");
  }
}

TEST(ErrorBoundary, ProblemBodiesStayValidJsonWithHostileDetail) {
  const std::string cut = std::string("bad \xc3") + "\"quote";
  const auto body = json::parse(problem_body(bad_request(cut))).as_object();
  EXPECT_NE(std::string(body.at("detail").as_string()).find("quote"), std::string::npos);
  EXPECT_FALSE(json::parse(problem_body(Problem{ProblemKind::InternalError, ""})).as_object().contains("detail"));
}

TEST(ErrorBoundary, AResponseGoesOutAsItIs) {
  Router router;
  router.add(verb::get, "/x", [](Call&) -> Outcome {
    Response r = make_response(201);
    r.set(beast_http::field::location, "/x/1");
    return r;
  });
  Answers answers;
  router.handle(get("/x"), answers.reply());
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 201u);
  EXPECT_EQ(header(responses[0], beast_http::field::location), "/x/1");
}

TEST(ErrorBoundary, UnknownPathsAndMethodsAreProblemsToo) {
  Router router;
  router.add(verb::get, "/x/{id}", [](Call&) -> Outcome { return make_response(200, "{}"); });
  router.add(verb::delete_, "/x/{id}", [](Call&) -> Outcome { return make_response(204); });
  Answers answers;
  router.handle(get("/nothing"), answers.reply());
  Request post{verb::post, "/x/1", 11};
  router.handle(std::move(post), answers.reply());
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].result_int(), 404u);
  EXPECT_EQ(std::string(body_of(responses[0]).at("type").as_string()), kErrors + "ResourceNotFound");
  EXPECT_EQ(responses[1].result_int(), 405u);
  EXPECT_EQ(header(responses[1], beast_http::field::allow), "GET, DELETE");
}

TEST(ErrorBoundary, AnAnswerGivenLaterFromAnotherThreadGoesThroughTheSameMapping) {
  Router router;
  std::thread worker;
  router.add(verb::get, "/x", [&](Call& call) -> Outcome {
    worker = std::thread([later = call.later()] { later.fail({ProblemKind::InsufficientStorage, "the volume is full"}); });
    return Deferred{};
  });
  Answers answers;
  router.handle(get("/x"), answers.reply());
  worker.join();
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 507u);
  EXPECT_EQ(header(responses[0], beast_http::field::retry_after), "5");
  EXPECT_EQ(std::string(body_of(responses[0]).at("detail").as_string()), "the volume is full");
}

TEST(ErrorBoundary, AHandlerThatFailsAfterGoingAsynchronousGetsOneProblemReply) {
  Router router;
  std::vector<Later> kept;
  router.add(verb::get, "/x", [&](Call& call) -> Outcome {
    kept.push_back(call.later());  // as if it had queued a write to answer once durable...
    return bad_request("...and then it failed");
  });
  Answers answers;
  router.handle(get("/x"), answers.reply());
  std::thread durable([&] { kept.front().answer(make_response(204)); });  // the durable answer comes anyway
  durable.join();
  kept.clear();
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 400u);
  EXPECT_EQ(std::string(body_of(responses[0]).at("detail").as_string()), "...and then it failed");
}

TEST(ErrorBoundary, TheFirstAnswerWinsWhenTheLaterOneCameBeforeTheHandlerReturned) {
  Router router;
  router.add(verb::get, "/x", [](Call& call) -> Outcome {
    call.later().answer(make_response(204));  // already durable: the store calls back at once
    return Problem{ProblemKind::InternalError, "a failure after the answer went out"};
  });
  Answers answers;
  router.handle(get("/x"), answers.reply());
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 204u);
}

TEST(ErrorBoundary, ALaterDroppedWithoutAnAnswerGetsA500) {
  Router router;
  std::vector<Later> kept;
  router.add(verb::get, "/x", [&](Call& call) -> Outcome {
    kept.push_back(call.later());
    return Deferred{};
  });
  Answers answers;
  router.handle(get("/x"), answers.reply());
  EXPECT_TRUE(answers.taken().empty()) << "still waiting while a Later is held";
  kept.clear();  // e.g. a callback the store dropped
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 500u);
  EXPECT_EQ(std::string(body_of(responses[0]).at("type").as_string()), kErrors + "InternalError");
}

TEST(ErrorBoundary, DeferringWithoutALaterIsA500NotSilence) {
  Router router;
  router.add(verb::get, "/x", [](Call&) -> Outcome { return Deferred{}; });
  Answers answers;
  router.handle(get("/x"), answers.reply());
  const auto responses = answers.taken();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 500u);
}

}  // namespace
}  // namespace ct::http
