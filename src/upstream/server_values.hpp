// SPDX-License-Identifier: ISC
#pragma once
// FCGI_GET_VALUES towards a server: what it says of its own concurrency (FCGI_MAX_CONNS,
// FCGI_MAX_REQS, FCGI_MPXS_CONNS). The query and the reading of its answer are free of I/O
// (tested alone); ask_values() is the one exchange on the wire, on a connection of its own.

#include "src/upstream/endpoint.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace fcgimux {

/// A server's answer; a variable it did not name stays empty (php-fpm names only FCGI_MPXS_CONNS).
struct server_values {
  std::optional<std::size_t> max_conns;
  std::optional<std::size_t> max_reqs;
  std::optional<bool> mpxs_conns;
};

/// The GET_VALUES record asking for the three variables.
std::string get_values_query();
/// Reads a GET_VALUES_RESULT out of a server's bytes: nullopt while more are needed; `ec` set when
/// the bytes are not one (garbage, another record first).
std::optional<server_values> read_values_answer(std::string_view in, std::error_code& ec);

/// What ask_values() found out.
struct values_outcome {
  std::error_code connect_error;  ///< the server could not be reached (then nothing else is set)
  bool answered = false;          ///< a GET_VALUES_RESULT came within the time given
  server_values values;
};

/// Connects to `where`, asks GET_VALUES and waits at most `answer_within` for the answer; closes
/// the connection either way (it served no request, and must not hold one of the server's slots).
asio::awaitable<values_outcome> ask_values(asio::any_io_executor ex, const member_endpoint& where,
                                           std::chrono::milliseconds connect_within,
                                           std::chrono::milliseconds answer_within);

}  // namespace fcgimux
