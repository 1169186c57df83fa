-- wrk script of bench/run: a pool of ready-made requests, cycled; each carries another
-- simulated client address in X-Forwarded-For (see bench/loadgen/src/common.rs: the ingress
-- is a trusted proxy, so the per-IP limiter counts each simulated client on its own).
--
-- Environment: BENCH_KIND = me | token, BENCH_PATH (request path), BENCH_XFF (second
-- octet of 10.x.y.z), BENCH_POOL (requests in the pool), and per kind:
--   me     BENCH_ACCESS (file of bearer tokens)
--   token  BENCH_CLIENT_ID, BENCH_CLIENT_SECRET
-- done() prints one line "JSON {...}" with requests, seconds, errors and latency percentiles.

local kind = os.getenv("BENCH_KIND")
local path = os.getenv("BENCH_PATH")
local xff = os.getenv("BENCH_XFF") or "20"
local size = tonumber(os.getenv("BENCH_POOL") or "50000")
local pool = {}
local i = 0

local function read_lines(file)
  local t = {}
  for line in io.lines(file) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function ip(n)
  return string.format("10.%s.%d.%d", xff, math.floor(n / 256) % 256, n % 256)
end

function init(args)
  local make
  if kind == "me" then
    local tokens = read_lines(os.getenv("BENCH_ACCESS"))
    make = function(n)
      return wrk.format("GET", path, {
        ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
        ["X-Forwarded-For"] = ip(n),
      })
    end
  elseif kind == "token" then
    local body = "grant_type=client_credentials&client_id=" .. urlencode(os.getenv("BENCH_CLIENT_ID"))
      .. "&client_secret=" .. urlencode(os.getenv("BENCH_CLIENT_SECRET")) .. "&scope=read"
    make = function(n)
      return wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Forwarded-For"] = ip(n),
      }, body)
    end
  else
    error("BENCH_KIND must be me or token")
  end
  for n = 0, size - 1 do pool[n + 1] = make(n) end
end

function request()
  i = i % size + 1
  return pool[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"secs":%.3f,"errors":%d,"non2xx":%d,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
