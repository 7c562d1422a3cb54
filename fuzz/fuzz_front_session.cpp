// SPDX-License-Identifier: ISC
// Arbitrary front bytes interleaved with arbitrary events (a worker taking a request, answering
// it, failing it before or after output, an abort's aftermath, a close, a drain) through the
// front session, with the rest of fcgimux modelled by tests/daemon/front_session_driver.hpp.
// Checked: no record for an id the front has not open, no request ended twice, and every request
// ended once the front and the workers are done.

#include "fuzz_support.hpp"
#include "tests/daemon/front_session_driver.hpp"

#include <fuzzer/FuzzedDataProvider.h>

using namespace fcgimux;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  front_limits limits;
  limits.max_reqs = fdp.ConsumeIntegralInRange<std::size_t>(1, 8);
  limits.body_buffer = fdp.ConsumeIntegralInRange<std::size_t>(0, 4096);
  limits.max_params = fdp.ConsumeIntegralInRange<std::size_t>(1024, 8192);
  // Any set of the three roles: DATA and an AUTHORIZER without STDIN reach the session too.
  limits.roles = fdp.ConsumeIntegralInRange<unsigned>(0, 7) << 1;
  if (fdp.ConsumeBool()) limits.status_path = "/s";
  test::front_session_driver d(limits, [](const char* what) { proto::fuzz::check(false, what); });
  d.taking = fdp.ConsumeIntegralInRange<int>(0, 7) != 0;
  while (fdp.remaining_bytes() > 0) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
      case 1:
      case 2: d.feed(fdp.ConsumeRandomLengthString(512)); break;
      case 3: d.dispatch(); break;
      case 4:
        d.worker_finishes(test::front_session_driver::worker_end::answer, fdp.ConsumeRandomLengthString(64));
        break;
      case 5: d.worker_finishes(test::front_session_driver::worker_end::fail_after_output, "x"); break;
      case 6: d.worker_finishes(test::front_session_driver::worker_end::fail_before_output, ""); break;
      case 7:
        if (fdp.ConsumeBool())
          d.drain();
        else
          d.close();
        break;
    }
  }
  d.finish_all();
  proto::fuzz::check(d.ended() == d.opened(), "opened and ended requests differ");
  return 0;
}
