#include "ingest/codec.hpp"

#include <algorithm>
#include <cctype>
#include <shared_mutex>

namespace ct::ingest {

// The built-in codecs: X(protocol name, factory defined in ingest/<name>_codec.cpp), in the order
// their recognizes() is asked. Adding a codec to the program is one line here.
#define CT_BUILT_IN_CODECS(X)               \
  X("UltraLight", make_ultralight_codec)    \
  X("JSON", make_json_codec)

#define CT_DECLARE_CODEC_FACTORY(name, factory) std::unique_ptr<PayloadCodec> factory();
CT_BUILT_IN_CODECS(CT_DECLARE_CODEC_FACTORY)
#undef CT_DECLARE_CODEC_FACTORY

namespace {

struct CodecEntry {
  std::string name;  // lower-cased
  std::unique_ptr<PayloadCodec> codec;
};

std::string lower_case_name(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct CodecTable {
  std::shared_mutex mutex;
  std::vector<CodecEntry> entries;  // in registration order: recognizes() is asked in this order

  CodecTable() {
#define CT_ADD_CODEC(name, factory) entries.push_back({lower_case_name(name), factory()});
    CT_BUILT_IN_CODECS(CT_ADD_CODEC)
#undef CT_ADD_CODEC
  }
  const PayloadCodec* named_locked(std::string_view lowered) const {
    for (const auto& e : entries)
      if (e.name == lowered) return e.codec.get();
    return nullptr;
  }
};

CodecTable& codec_table() {
  static CodecTable instance;  // built on first use: register_codec() may run during static initialization
  return instance;
}

}  // namespace

bool register_codec(std::string name, CodecFactory factory) {
  auto& r = codec_table();
  std::unique_lock lock(r.mutex);
  const std::string lowered = lower_case_name(name);
  if (lowered.empty() || !factory || r.named_locked(lowered)) return false;
  auto codec = factory();
  if (!codec) return false;
  r.entries.push_back({lowered, std::move(codec)});
  return true;
}

const PayloadCodec* codec_named(std::string_view name) {
  auto& r = codec_table();
  std::shared_lock lock(r.mutex);
  return r.named_locked(lower_case_name(name));
}

const PayloadCodec* codec_for_protocol(std::string_view protocol) {
  if (protocol.empty()) return nullptr;
  auto& r = codec_table();
  const std::string lowered = lower_case_name(protocol);
  std::shared_lock lock(r.mutex);
  if (const auto* exact = r.named_locked(lowered)) return exact;
  for (const auto& e : r.entries)
    if (e.codec->recognizes(lowered)) return e.codec.get();
  return nullptr;
}

const PayloadCodec& ultralight_codec() {
  static const PayloadCodec& codec = *codec_named("ultralight");
  return codec;
}

const PayloadCodec& json_codec() {
  static const PayloadCodec& codec = *codec_named("json");
  return codec;
}

}  // namespace ct::ingest
