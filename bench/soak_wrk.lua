-- SPDX-License-Identifier: ISC
-- wrk -s bench/soak_wrk.lua URL -- MANIFEST QUOTA DEADLINE DONEFILE BADFILE    (run by bench/soak.sh)
--
-- The soak's load: a fixed mix of GETs and POSTs to soak.php, every answer checked, every request
-- accounted for.
--   MANIFEST  lines "get SIZE WEIGHT" (GET ?bytes=SIZE) and "post SIZE WEIGHT CRC32 FILE" (POST of
--             FILE's SIZE bytes, whose CRC-32 is CRC32); WEIGHT is the share in the mix
--   QUOTA     answers this thread collects before it stops sending (the request count / threads)
--   DEADLINE  Unix time at which it stops sending anyway (soak.sh -d)
--   DONEFILE  a line is appended here when this thread stops sending; soak.sh waits for one per thread
--   BADFILE   one line per non-2xx, wrong or carried-over answer (at most 50 per thread): what came
--             back, for the report
--
-- Why not wrk's own counters: wrk counts no error when the server closes a connection in the middle
-- of an answer (it just reconnects), and a request that is never answered is not counted at all. So
-- this script counts requests sent (request()) and answers received (response()); once every thread
-- has stopped sending, in-flight requests are given time to finish (soak.sh waits until fcgimux has
-- none active), so "sent - received" is exactly the requests that never got a whole answer.
--
-- Stopping: delay() is called before each request; past the quota or the deadline it returns a
-- delay of ~11 days, which parks the connection without sending. soak.sh then ends wrk with SIGINT
-- (wrk's -d is only a backstop), and done() prints the totals.
--
-- Prints, after wrk's own report, a WRK line in bench/wrk_report.lua's format and
--   SOAK sent=N received=N ok=N non2xx=N bad_body=N carried=N statuses=200:N,502:N sent_KIND=N recv_KIND=N ...
-- with KIND one of get, get_large, post, post_large (large: answers of 1 MiB or more, bodies above
-- --body-buffer, which soak.sh passes in the manifest's "body_buffer" line), and carried the
-- answers that arrived behind the start of a cut one (the wrk quirk described in response()).

local PATTERN = "0123456789abcdef"  -- soak.php answers GET ?bytes=N with N bytes of this, repeated

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- Per thread (each wrk thread has its own Lua state); globals so that done() can thread:get() them.
sent, received, ok, non2xx, bad_body, carried = 0, 0, 0, 0, 0, 0
statuses = {}        -- status code -> answers
sent_kind = {}       -- kind -> requests sent
recv_kind = {}       -- kind -> answers received (any status)

local slots = {}     -- one entry per unit of weight: {request string, kind}
local get_body = {}  -- bytes -> the exact answer expected
local longest_get = ""
local post_ok = {}   -- "len=N crc=X" -> true for every body we send
local quota, deadline, donefile, badfile
local bad_lines = 0
local body_buffer = 1048576
local stopping = false
-- wrk calls request() once in the first thread before the run, only to check the request's syntax;
-- that call is not a request sent. delay() runs before a connection's first request, so requests
-- are counted from the first delay() on.
local running = false

local function kind_of_size(method, size)
  if method == "get" then return size >= 1048576 and "get_large" or "get" end
  return size > body_buffer and "post_large" or "post"
end

function init(args)
  local manifest = args[1]
  quota = tonumber(args[2])
  deadline = tonumber(args[3])
  donefile = args[4]
  badfile = args[5]
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  local lines = {}
  for line in io.lines(manifest) do table.insert(lines, line) end
  for _, line in ipairs(lines) do
    local f = {}
    for w in line:gmatch("%S+") do table.insert(f, w) end
    if f[1] == "body_buffer" then body_buffer = tonumber(f[2]) end
  end
  for _, line in ipairs(lines) do
    local f = {}
    for w in line:gmatch("%S+") do table.insert(f, w) end
    local method, size, weight = f[1], tonumber(f[2]), tonumber(f[3])
    local req
    if method == "get" then
      req = wrk.format("GET", "/soak.php?bytes=" .. size)
      get_body[size] = string.rep(PATTERN, math.ceil(size / #PATTERN)):sub(1, size)
      if size > #longest_get then longest_get = get_body[size] end
    elseif method == "post" then
      local fh = assert(io.open(f[5], "rb"))
      local body = fh:read("*a")
      fh:close()
      assert(#body == size, "body file size")
      req = wrk.format("POST", "/soak.php", { ["Content-Type"] = "application/octet-stream" }, body)
      post_ok[string.format("len=%d crc=%s", size, f[4])] = true
    end
    if req then
      local kind = kind_of_size(method, size)
      sent_kind[kind] = sent_kind[kind] or 0
      recv_kind[kind] = recv_kind[kind] or 0
      for _ = 1, weight do table.insert(slots, { req, kind }) end
    end
  end
end

function delay()
  running = true
  if not stopping and (received >= quota or os.time() >= deadline) then
    stopping = true
    local fh = io.open(donefile, "a")
    if fh then
      fh:write(string.format("stopped received=%d sent=%d\n", received, sent))
      fh:close()
    end
  end
  if stopping then return 1e9 end  -- park the connection; soak.sh ends wrk
  return 0
end

function request()
  local s = slots[math.random(#slots)]
  if running then
    sent = sent + 1
    sent_kind[s[2]] = sent_kind[s[2]] + 1
  end
  return s[1]
end

-- Printable excerpt of a string: non-printable bytes as \xNN.
local function excerpt(str, from, n)
  return (str:sub(from, from + n - 1):gsub("[^%w%p ]", function(c) return string.format("\\x%02x", c:byte()) end))
end

-- One line on BADFILE describing a non-2xx or wrong answer: its status, headers, length, and for a
-- GET where it first differs from the expected pattern.
local function note_bad(what, status, headers, body, expected)
  if not badfile or bad_lines >= 50 then return end
  bad_lines = bad_lines + 1
  local hs = {}
  for k, v in pairs(headers) do table.insert(hs, k .. ": " .. v) end
  table.sort(hs)
  local where = ""
  if expected then
    local i = 1
    while i <= #body and i <= #expected and body:byte(i) == expected:byte(i) do i = i + 1 end
    where = string.format(" expected_len=%d first_difference_at=%d there=\"%s\"", #expected, i - 1,
      excerpt(body, math.max(1, i - 20), 120))
  end
  local fh = io.open(badfile, "a")
  if fh then
    fh:write(string.format("%s status=%d len=%d headers={%s}%s start=\"%s\" end=\"%s\"\n", what, status, #body,
      table.concat(hs, "; "), where, excerpt(body, 1, 80), excerpt(body, math.max(1, #body - 79), 80)))
    fh:close()
  end
end

-- A POST's answer, "len=N crc=X\n", at the end of body: its start and N, or nil. Only the last few
-- bytes are searched (a GET's pattern never contains "len=" or a newline).
local function post_answer_at(body)
  if body:byte(-1) ~= 10 then return nil end
  local at = body:find("len=", math.max(1, #body - 48), true)
  if not at then return nil end
  local len = body:match("^len=(%d+) crc=%x+\n$", at)
  if not len then return nil end
  return at, tonumber(len)
end

function response(status, headers, body)
  received = received + 1
  statuses[status] = (statuses[status] or 0) + 1
  -- Which answer this is, from the answer itself (wrk does not tell which request an answer
  -- belongs to), and whether it is whole and exact: a POST's length and CRC-32 must be those of a
  -- body we sent, a GET's body exactly the pattern of the announced length.
  --
  -- wrk quirk: when a connection fails in the middle of an answer (a worker was killed while its
  -- answer was on the way: nginx closes the connection), wrk reconnects but does not empty its
  -- header and body buffers, so the next answer on that connection arrives here with the cut
  -- answer's headers and body in front of its own. The cut answer is already counted (its request
  -- was sent and never answered); this one is checked on its own bytes at the end, and the bytes
  -- in front are accepted only if they are the start of an answer we could have asked for.
  local kind, good, own_start = "other", false, 1
  local at, len = post_answer_at(body)
  if at then
    kind, own_start = kind_of_size("post", len), at
    good = post_ok[body:sub(at, -2)] == true
  else
    local n = tonumber(headers["X-Soak-Bytes"] or "")
    local want = n and get_body[n]
    if want and #body >= n then
      kind, own_start = kind_of_size("get", n), #body - n + 1
      if own_start == 1 then good = body == want else good = body:sub(own_start) == want end
    end
  end
  recv_kind[kind] = (recv_kind[kind] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    note_bad("non2xx", status, headers, body)
    return
  end
  if good and own_start > 1 then
    -- The carried-over bytes must be the start of a GET answer (the pattern from its beginning).
    local n = own_start - 1
    good = n <= #longest_get and body:sub(1, n) == longest_get:sub(1, n)
    if good then
      carried = carried + 1
      note_bad("carried_over", status, headers, body, nil)
    end
  end
  if good then
    ok = ok + 1
  else
    bad_body = bad_body + 1
    local n = tonumber(headers["X-Soak-Bytes"] or "")
    note_bad("bad_body", status, headers, body, n and get_body[n] or nil)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
  local tot = { sent = 0, received = 0, ok = 0, non2xx = 0, bad_body = 0, carried = 0 }
  local st, sk, rk = {}, {}, {}
  local function add(dst, src)
    for k, v in pairs(src or {}) do dst[k] = (dst[k] or 0) + v end
  end
  for _, t in ipairs(threads) do
    for k in pairs(tot) do tot[k] = tot[k] + (t:get(k) or 0) end
    add(st, t:get("statuses"))
    add(sk, t:get("sent_kind"))
    add(rk, t:get("recv_kind"))
  end
  local codes = {}
  for code, n in pairs(st) do table.insert(codes, tostring(code) .. ":" .. n) end
  table.sort(codes)
  local out = { string.format("SOAK sent=%d received=%d ok=%d non2xx=%d bad_body=%d carried=%d statuses=%s",
    tot.sent, tot.received, tot.ok, tot.non2xx, tot.bad_body, tot.carried, table.concat(codes, ",")) }
  local kinds = {}
  for k in pairs(sk) do kinds[k] = true end
  for k in pairs(rk) do kinds[k] = true end
  local names = {}
  for k in pairs(kinds) do table.insert(names, k) end
  table.sort(names)
  for _, k in ipairs(names) do
    table.insert(out, string.format("sent_%s=%d recv_%s=%d", k, sk[k] or 0, k, rk[k] or 0))
  end
  io.write(table.concat(out, " "), "\n")
end
