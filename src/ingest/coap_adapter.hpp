#pragma once
// The CoAP transport (RFC 7252, UDP, libcoap3) for constrained devices, with the HTTP southbound's
// resources and payloads:
//   POST coap://host:port/iot/d?k=<apikey>&i=<device_id>     UltraLight 2.0
//   POST coap://host:port/iot/json?k=<apikey>&i=<device_id>  JSON
// Answers 2.04 Changed once the write is durable; 4.00 Bad Request (a payload that does not parse or
// convert, no k or i), 4.04 Not Found (unknown apikey or device), 4.13 Request Entity Too Large,
// 5.00 when the store failed, each with the reason as diagnostic payload. Block-wise transfers are
// reassembled by libcoap. Requests are served on one thread of its own.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "ingest/ingestor.hpp"
#include "storage/store.hpp"

struct coap_context_t;

namespace ct::ingest {

class CoapAdapter {
 public:
  CoapAdapter(Ingestor& ingestor, storage::Store& store);
  ~CoapAdapter();
  CoapAdapter(const CoapAdapter&) = delete;
  CoapAdapter& operator=(const CoapAdapter&) = delete;

  // Listens on address:port (UDP; IPv4 or IPv6 literal) and starts serving.
  Status start(const std::string& address, std::uint16_t port);
  void stop();

  // For the resource handlers: the CoAP response code and diagnostic text of a request.
  struct Answer {
    int code = 204;  // as a decimal: 204, 400, 404, 413, 500
    std::string diagnostic;
  };
  Answer handle(PayloadFormat format, std::string_view query, std::string_view payload);

 private:
  Ingestor& ingestor_;
  storage::Store& store_;
  coap_context_t* context_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ct::ingest
