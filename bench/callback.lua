-- wrk script: realistic callbacks, each one distinct so that every one is
-- stored (identical OneSpan events would be deduplicated, not written).
-- KIND=onespan|alphatrust, URLPATH, KEY from the environment.
local kind = os.getenv("KIND") or "onespan"
local path = os.getenv("URLPATH") or "/esignhook/onespan"
local key = os.getenv("KEY") or ""
-- Distinct across runs too: OneSpan events seen before are deduplicated.
local nonce = os.getenv("NONCE") or "0"
local counter = 0
tid = 1 -- set per thread by setup()
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end


function request()
  counter = counter + 1
  local n = nonce .. tostring(tid) .. string.format("%09d", counter)
  if kind == "onespan" then
    local body = '{"@class":"com.silanis.esl.packages.event.ESLProcessEvent",' ..
      '"name":"PACKAGE_COMPLETE","sessionUser":"e00696ec-d6f5-4feb-89c5-a5ce002a6c66",' ..
      '"packageId":"bench-' .. n .. '=","message":null,"documentId":null,' ..
      '"createdDate":"2018-06-30T20:15:01.038Z"}'
    return wrk.format("POST", path, {["Content-Type"] = "application/json",
      ["Authorization"] = "Basic " .. key}, body)
  else
    local body = "TransID=" .. n .. "&PartID=1234567890&TXStatus=2&PartStatus=6" ..
      "&EventType=participant&ps_securitytoken=4bf44fb0-f695-40b5-821d-c22273e11c30"
    return wrk.format("POST", path,
      {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f " ..
    "non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, non2xx, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
