#pragma once
// The console's live stream: ONE WebSocket per browser carrying every change it wants, filtered on
// the server by entity type and map bounds, with catch-up after a reconnection.
// (GET /city/v1/live, Upgrade: websocket; http/live_api.hpp parses the request.)
//
// Protocol (JSON text messages):
//   server → client, at once:  {"type":"hello","epoch":E,"seq":S}
//     E names this server process, S the last change sequence handed out. A client that loads the
//     twin's state (HTTP queries) after the hello, then applies every "changes" message in order,
//     holds the newest state of every entity its filter matches.
//   client → server, at any time: {"types":[T…],"bbox":[minLon,minLat,maxLon,maxLat],"everywhere":[T…]}
//     Replaces the connection's filter. types: the entity types wanted, as the core @context names
//     them (what GET /ngsi-ld/v1/types answers); absent: every type. bbox: only entities whose
//     location intersects the box; absent: everywhere. Entities of the types in "everywhere", and
//     entities without a location, are sent wherever they are. The server answers
//     {"type":"filter","seq":S,"replayed":N} after sending (as "changes") the newest state of every
//     entity that the new filter matches and that changed since the client's baseline (its hello,
//     reset or `since`) without being sent to it: what it missed while outside the old filter.
//   server → client: {"type":"changes","seq":S,"data":[entity…]} in keyValues form, attribute names
//     compacted with the core @context; a deleted entity is {"id","type","deletedAt"}. S is the
//     sequence of the last change in the message.
//   server → client: {"type":"reset","seq":S}: the server cannot tell what the client missed (its
//     `since` is from another process or older than the changes kept); reload, then go on.
//   server → client: {"type":"error","detail":…} for a message it cannot read (the filter stays).
// Reconnecting: GET /city/v1/live?epoch=E&since=S with the epoch and the sequence of the client's
// baseline (the hello or reset its loaded state dates from; the sequences of later messages do not
// tell what was left out by its filter). Nothing is sent to it before its first filter message,
// which replays the newest state of every entity that changed since S and matches (or the server
// sends a reset).
//
// The stream keeps the newest change of up to `kept_changes` entities (a snapshot each, shared with
// the twin) once a first client connected; nothing is kept before. A client whose missed changes
// were forgotten gets a reset. Threads: consume() runs on the change
// stream's delivery thread; accept() on any thread; each connection's messages on its own strand.
// One mutex orders them, so a filter change and the changes around it are sent in sequence order.
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "jsonld/context.hpp"
#include "notify/websocket.hpp"
#include "storage/store.hpp"
#include "twin/change_stream.hpp"

namespace ct::live {

struct LiveOptions {
  std::size_t kept_changes = 200'000;  // entities whose newest change is kept for catch-up
};

struct LiveStats {
  std::size_t connections = 0;
  std::uint64_t changes_sent = 0;    // entity states sent, over every connection
  std::uint64_t resets = 0;
};

class LiveStream final : public twin::ChangeConsumer {
 public:
  // `core`: the core @context, to compact names with. Attaches itself to `changes`.
  LiveStream(twin::ChangeStream& changes, jsonld::ContextPtr core, LiveOptions options = {});
  ~LiveStream() override;  // stop()
  LiveStream(const LiveStream&) = delete;
  LiveStream& operator=(const LiveStream&) = delete;

  // Completes the handshake and serves the connection for `tenant`. `epoch` and `since`: what the
  // client saw last (empty epoch: a new client, whose baseline is its hello).
  void accept(boost::asio::ip::tcp::socket socket, notify::UpgradeRequest request, std::string tenant,
              std::string epoch, storage::Sequence since);

  // Detaches from the change stream and closes every connection (at shutdown). Not on a delivery thread.
  void stop();
  LiveStats stats() const;
  const std::string& epoch() const;

  // twin::ChangeConsumer
  std::string_view name() const override { return "live"; }
  bool wants(const twin::ChangeEvent& event) const override;
  void consume(std::span<const twin::ChangeEvent> events) override;

 private:
  struct Impl;
  twin::ChangeStream& changes_;
  std::shared_ptr<Impl> impl_;  // shared with the connections' handlers
};

}  // namespace ct::live
