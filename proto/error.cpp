// SPDX-License-Identifier: ISC
#include "proto/error.hpp"

#include <string>

namespace fcgimux::proto {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fcgimux.proto"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_version: return "FastCGI record with a version other than 1";
      case errc::null_request_id: return "FastCGI application record with request id 0";
      case errc::management_with_request_id: return "FastCGI management record with a non-zero request id";
      case errc::bad_begin_request_length: return "FCGI_BEGIN_REQUEST body is not 8 bytes";
      case errc::bad_end_request_length: return "FCGI_END_REQUEST body is not 8 bytes";
      case errc::bad_unknown_type_length: return "FCGI_UNKNOWN_TYPE body is not 8 bytes";
      case errc::duplicate_request_id: return "FCGI_BEGIN_REQUEST for a request id already active";
      case errc::params_too_large: return "FCGI_PARAMS of a request exceed the configured limit";
      case errc::name_value_truncated: return "FastCGI name-value pair runs past the end of its block";
    }
    return "unknown fcgimux.proto error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace fcgimux::proto
