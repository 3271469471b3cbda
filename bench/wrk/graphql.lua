-- wrk script: POSTs BENCH_BODY (a JSON GraphQL request) to the URL, replacing "$ID" with a
-- random line of BENCH_IDS when given; BENCH_AUTH is sent as the Authorization header.
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local ids = {}
local file = os.getenv("BENCH_IDS")
if file and file ~= "" then
  for line in io.lines(file) do ids[#ids + 1] = line end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
wrk.body = body

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  if #ids == 0 then return wrk.format() end
  local b = body:gsub("%$ID", ids[math.random(#ids)])
  return wrk.format(nil, nil, nil, b)
end
