-- wrk script: RFC 8693 token exchanges against `wif bench --serve` (or any wif), cycling through a pool of
-- subject tokens, one per line. docs/performance.md shows how it is run:
--
--   wif bench --serve --port 8090 --tokens-out /tmp/wif-tokens.txt
--   wrk -t2 -c64 -d30s --latency -s scripts/bench/exchange.lua http://127.0.0.1:8090 -- /tmp/wif-tokens.txt https://bench.internal
--
-- Arguments after `--`: the token file, then the audience to ask for (default https://bench.internal).
-- Responses that are not 2xx/3xx are counted and reported at the end, so a refusal cannot pass for
-- throughput (wrk counts them as "Non-2xx or 3xx responses" too).

local bodies = {}
local index = 0

local function encode(value)
  return (value:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file = assert(io.open(args[1] or "/tmp/wif-tokens.txt", "r"), "cannot read the token file")
  local audience = args[2] or "https://bench.internal"
  for token in file:lines() do
    if #token > 0 then
      bodies[#bodies + 1] = "grant_type=" .. encode("urn:ietf:params:oauth:grant-type:token-exchange")
        .. "&subject_token_type=" .. encode("urn:ietf:params:oauth:token-type:jwt")
        .. "&subject_token=" .. token
        .. "&audience=" .. encode(audience)
    end
  end
  file:close()
  assert(#bodies > 0, "the token file holds no tokens")
  -- Threads start at different places in the pool.
  index = math.random(#bodies)
end

function request()
  index = index % #bodies + 1
  return wrk.format("POST", "/token", { ["Content-Type"] = "application/x-www-form-urlencoded" }, bodies[index])
end

function done(summary, latency, requests)
  io.write(string.format("refused or failed (not 2xx/3xx): %d of %d\n", summary.errors.status, summary.requests))
  io.write(string.format("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
