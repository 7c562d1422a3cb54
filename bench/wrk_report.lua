-- SPDX-License-Identifier: ISC
-- wrk -s bench/wrk_report.lua: after wrk's own report, one machine-readable line
--   WRK requests=N duration_us=N rps=R p50_us=N p90_us=N p99_us=N max_us=N connect=N read=N write=N status=N timeout=N
-- Latencies cover completed requests only: wrk never counts requests still unanswered at the end.
done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
