// SPDX-License-Identifier: ISC
// --shutdown-delay: the moment between a stop signal and the drain, in which fcgimux tells load
// balancers to stop sending (/healthz 503) while it still accepts what they send meanwhile.
#include "src/app/server.hpp"

#include "src/base/log.hpp"

namespace fcgimux {

void server::begin_shutdown_delay(const char* signal_name) {
  // Kubernetes takes a pod out of its endpoints only after it was sent SIGTERM: until every node
  // and load balancer has heard, connections still come. /healthz says 503 now (the readiness
  // probe and any poller see it), and the listeners stay open until the delay is over.
  st_.stopping = true;
  if (upgrade_pid_ > 0) upgrade_failed("fcgimux is stopping");
  log::notice("{}: /healthz answers 503; serving on for --shutdown-delay {}s, then finishing the requests in "
              "flight and stopping",
              signal_name, cfg_.shutdown_delay.count());
  shutdown_delay_timer_.expires_after(to_duration(cfg_.shutdown_delay));
  shutdown_delay_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || stopping_) return;
    log::notice("shutdown delay over: finishing {} requests in flight, then stopping", live_requests());
    begin_shutdown();
  });
}

}  // namespace fcgimux
