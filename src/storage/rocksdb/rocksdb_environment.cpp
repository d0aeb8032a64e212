#include "storage/rocksdb/rocksdb_environment.hpp"

#include <rocksdb/file_system.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string_view>

#include <spdlog/spdlog.h>

namespace ct::storage {
namespace {

class SpdlogRocksDbLogger final : public rocksdb::Logger {
 public:
  SpdlogRocksDbLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}

  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const auto to = to_spdlog(level);
    if (!spdlog::should_log(to)) return;  // RocksDB is chatty at INFO: skip the formatting
    char buffer[1024];
    const int n = std::vsnprintf(buffer, sizeof buffer, format, ap);
    if (n < 0) return;
    std::string_view text(buffer, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buffer - 1));
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    spdlog::log(to, "rocksdb: {}", text);
  }

 private:
  static spdlog::level::level_enum to_spdlog(rocksdb::InfoLogLevel level) {
    switch (level) {
      case rocksdb::InfoLogLevel::DEBUG_LEVEL: return spdlog::level::trace;
      case rocksdb::InfoLogLevel::INFO_LEVEL:
      case rocksdb::InfoLogLevel::HEADER_LEVEL: return spdlog::level::debug;
      case rocksdb::InfoLogLevel::WARN_LEVEL: return spdlog::level::warn;
      case rocksdb::InfoLogLevel::ERROR_LEVEL: return spdlog::level::err;
      case rocksdb::InfoLogLevel::FATAL_LEVEL:
      case rocksdb::InfoLogLevel::NUM_INFO_LOG_LEVELS: return spdlog::level::critical;
    }
    return spdlog::level::debug;
  }
};

constexpr std::size_t kMaxLogPreallocation = 4 << 20;

class CappedPreallocationFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  void SetPreallocationBlockSize(size_t size) override {
    FSWritableFileOwnerWrapper::SetPreallocationBlockSize(std::min(size, kMaxLogPreallocation));
  }
};

class CappedPreallocationFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit CappedPreallocationFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base) : FileSystemWrapper(base) {}
  const char* Name() const override { return "citytwin.CappedPreallocation"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    auto s = target()->NewWritableFile(name, options, file, debug);
    if (s.ok() && name.ends_with(".log")) *file = std::make_unique<CappedPreallocationFile>(std::move(*file));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options, std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* debug) override {
    auto s = target()->ReuseWritableFile(name, old_name, options, file, debug);
    if (s.ok() && name.ends_with(".log")) *file = std::make_unique<CappedPreallocationFile>(std::move(*file));
    return s;
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> make_spdlog_rocksdb_logger() { return std::make_shared<SpdlogRocksDbLogger>(); }

std::unique_ptr<rocksdb::Env> make_capped_preallocation_env() {
  return rocksdb::NewCompositeEnv(std::make_shared<CappedPreallocationFileSystem>(rocksdb::FileSystem::Default()));
}

void BackgroundErrors::OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) {
  count_.fetch_add(1, std::memory_order_relaxed);
  pending_.store(true, std::memory_order_relaxed);
  spdlog::error("storage: background error ({}): {}; writes are refused until the store resumes",
                static_cast<int>(reason), error ? error->ToString() : std::string("unknown"));
}

void BackgroundErrors::OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) {
  if (info.new_bg_error.ok()) {
    pending_.store(false, std::memory_order_relaxed);
    spdlog::info("storage: recovered from a background error");
  }
}

}  // namespace ct::storage
