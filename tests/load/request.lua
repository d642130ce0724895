-- request.lua: the request wrk sends, for tests/load/bench.
--
-- Read from the environment, so that credentials stay in files (mode 0600,
-- in the bench's temporary directory) and never appear on a command line:
--   BENCH_METHOD   GET (default), POST, ...
--   BENCH_HEADERS  a file of "Name: value" lines (e.g. Authorization)
--   BENCH_BODY     a file whose content is the request body
local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

wrk.method = os.getenv("BENCH_METHOD") or "GET"

local headers = os.getenv("BENCH_HEADERS")
if headers and headers ~= "" then
	for line in slurp(headers):gmatch("[^\r\n]+") do
		local name, value = line:match("^([^:]+):%s*(.-)%s*$")
		if name then
			wrk.headers[name] = value
		end
	end
end

local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
	wrk.body = slurp(body)
end
