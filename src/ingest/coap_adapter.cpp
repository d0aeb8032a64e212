#include "ingest/coap_adapter.hpp"

#include <arpa/inet.h>
#include <coap3/coap.h>

#include <cstring>
#include <mutex>

#include <boost/url/parse_query.hpp>
#include <spdlog/spdlog.h>

namespace ct::ingest {
namespace {

constexpr std::uint32_t kPollMilliseconds = 200;

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    coap_set_log_level(LOG_ERR);
  });
}

int answer_code(const Problem& problem) {
  switch (problem.kind) {
    case ProblemKind::ResourceNotFound: return 404;
    case ProblemKind::PayloadTooLarge: return 413;
    case ProblemKind::BadRequestData:
    case ProblemKind::InvalidRequest: return 400;
    default: return 500;
  }
}

template <PayloadFormat format>
void on_post(coap_resource_t* resource, coap_session_t*, const coap_pdu_t* request, const coap_string_t* query,
             coap_pdu_t* response) {
  auto* adapter = static_cast<CoapAdapter*>(coap_resource_get_userdata(resource));
  std::size_t length = 0, offset = 0, total = 0;
  const std::uint8_t* data = nullptr;
  std::string_view payload;
  if (coap_get_data_large(request, &length, &data, &offset, &total) && data)
    payload = std::string_view(reinterpret_cast<const char*>(data), length);
  std::string_view query_text;
  if (query && query->s) query_text = std::string_view(reinterpret_cast<const char*>(query->s), query->length);
  const auto answer = adapter->handle(format, query_text, payload);
  coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(COAP_RESPONSE_CODE(answer.code)));
  if (!answer.diagnostic.empty())
    coap_add_data(response, answer.diagnostic.size(), reinterpret_cast<const std::uint8_t*>(answer.diagnostic.data()));
}

}  // namespace

CoapAdapter::CoapAdapter(Ingestor& ingestor, storage::Store& store) : ingestor_(ingestor), store_(store) {}

CoapAdapter::~CoapAdapter() { stop(); }

Status CoapAdapter::start(const std::string& address, std::uint16_t port) {
  init_library();
  coap_address_t listen;
  coap_address_init(&listen);
  if (inet_pton(AF_INET, address.c_str(), &listen.addr.sin.sin_addr) == 1) {
    listen.addr.sin.sin_family = AF_INET;
    listen.addr.sin.sin_port = htons(port);
    listen.size = sizeof(listen.addr.sin);
  } else if (inet_pton(AF_INET6, address.c_str(), &listen.addr.sin6.sin6_addr) == 1) {
    listen.addr.sin6.sin6_family = AF_INET6;
    listen.addr.sin6.sin6_port = htons(port);
    listen.size = sizeof(listen.addr.sin6);
  } else {
    return invalid_request("--coap must be an IP address and a port, got " + address);
  }
  context_ = coap_new_context(nullptr);
  if (!context_) return Problem{ProblemKind::InternalError, "cannot create a CoAP context"};
  coap_context_set_block_mode(context_, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  if (!coap_new_endpoint(context_, &listen, COAP_PROTO_UDP)) {
    coap_free_context(context_);
    context_ = nullptr;
    return Problem{ProblemKind::InternalError, "cannot listen for CoAP on " + address + ":" + std::to_string(port)};
  }
  auto add = [&](const char* path, coap_method_handler_t handler) {
    coap_resource_t* r = coap_resource_init(coap_make_str_const(path), 0);
    coap_register_handler(r, COAP_REQUEST_POST, handler);
    coap_resource_set_userdata(r, this);
    coap_add_resource(context_, r);
  };
  add("iot/d", &on_post<PayloadFormat::UltraLight>);
  add("iot/json", &on_post<PayloadFormat::Json>);
  stopping_ = false;
  thread_ = std::thread([this] {
    while (!stopping_.load()) coap_io_process(context_, kPollMilliseconds);
  });
  spdlog::info("coap ingest: listening on udp {}:{}", address, port);
  return {};
}

void CoapAdapter::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (context_) coap_free_context(context_);
  context_ = nullptr;
}

CoapAdapter::Answer CoapAdapter::handle(PayloadFormat format, std::string_view query, std::string_view payload) {
  std::string apikey, device_id;
  if (auto params = boost::urls::parse_query(query)) {
    for (auto p : *params) {
      if (p.key == "k") apikey = p.value;
      if (p.key == "i") device_id = p.value;
    }
  }
  if (apikey.empty() || device_id.empty()) {
    ingestor_.drop(Transport::Coap, DropReason::BadTopic, apikey + "/" + device_id, "k and i are required");
    return {400, "the query parameters k (apikey) and i (device id) are required"};
  }
  auto outcome = ingestor_.ingest(Transport::Coap, apikey, device_id, format, payload);
  if (!outcome) return {answer_code(outcome.problem()), outcome.problem().detail};
  // CoAP answers on this thread: wait for the group commit (milliseconds) rather than acknowledge
  // a reading that a crash could still lose.
  if (auto st = store_.wait_durable(outcome->sequence); !st) return {500, st.problem().detail};
  return {204, {}};
}

}  // namespace ct::ingest
