// SPDX-License-Identifier: ISC
// The check and the one place a pool applies it: where a request with complete PARAMS is handed to
// the pool, before it takes a place in the queue or a worker.

#include "src/pool/limit_extensions.hpp"

#include "proto/name_value.hpp"
#include "src/base/log.hpp"
#include "src/core/request_lifecycle.hpp"
#include "src/pool/pool.hpp"

namespace fcgimux {

bool script_allowed(std::string_view params, const std::vector<std::string>& extensions) noexcept {
  if (extensions.empty()) return true;
  const auto script = proto::find_name_value(params, "SCRIPT_FILENAME");
  if (!script.found) return true;
  const std::string_view path = script.value;
  for (const auto& ext : extensions)
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) return true;
  return false;
}

void pool::request_ready(const std::shared_ptr<request>& r) {
  if (!script_allowed(r->params, cfg_.limit_extensions)) {
    // php-fpm's own warning and answer.
    log::warning("pool {}: access to the script '{}' has been denied (see limit-extensions)", cfg_.name,
                 proto::find_name_value(r->params, "SCRIPT_FILENAME").value.substr(0, 512));
    respond_error(*r, 403, "Access denied.");
    return;
  }
  sched_.submit(r);
}

}  // namespace fcgimux
