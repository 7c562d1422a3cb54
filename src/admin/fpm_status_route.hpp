// SPDX-License-Identifier: ISC
#pragma once
// The stats server's /fpm-status: php-fpm's status page of one pool (stats/fpm_status.hpp), for a
// collector that scrapes HTTP rather than FastCGI, behind the stats server's --stats-allow and
// token like every other page but /healthz.

#include "src/stats/fpm_status.hpp"
#include "src/stats/stats.hpp"

#include <optional>
#include <string_view>

namespace fcgimux {

/// The page for QUERY_STRING `query` (php-fpm's words, and pool=NAME: needed when there are
/// several pools); nullopt when no such pool is registered (or several and none named).
std::optional<fpm_page> fpm_status_route(const stats& s, std::string_view query);

}  // namespace fcgimux
