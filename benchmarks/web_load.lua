-- The load of benchmarks/bench_web.py for wrk: many family members on their balance pages.
--
--   wrk -t2 -c50 -d60s --timeout 10s -s benchmarks/web_load.lua http://127.0.0.1:PORT -- USERS_FILE PAGE,API,START THINK_MS
--
-- USERS_FILE has one line per family member: "<session token> <budget id>". Every request
-- carries one member's session cookie (phb_session), the members taken in turn, and is one of:
--   page  GET /family/budgets/<id>          (the balance page, HTML)
--   api   GET /api/v1/family/budgets/<id>   (the same figures as JSON)
--   start GET /                             (the start page, as a visitor not signed in sees it)
-- in the proportions PAGE,API,START (per cent, default 70,20,10), in a fixed shuffled order.
-- THINK_MS (default 0): each connection waits a random 0 to 2 × THINK_MS ms before each
-- request, as a person reading the page would (0: every connection asks again at once).
-- Every answer's status is counted; done() prints one line, "WEB_LOAD_RESULT {json}", with the
-- requests, duration, socket errors, statuses and latency percentiles (microseconds).

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function split(text, separator)
   local parts = {}
   for part in string.gmatch(text, "[^" .. separator .. "]+") do
      table.insert(parts, part)
   end
   return parts
end

local function read_users(path)
   local users = {}
   local file = assert(io.open(path, "r"), "cannot open the users file " .. path)
   for line in file:lines() do
      local fields = split(line, " ")
      if #fields == 2 then
         table.insert(users, { token = fields[1], budget = fields[2] })
      end
   end
   file:close()
   assert(#users > 0, "no users in " .. path)
   return users
end

local function schedule_of(mix, seed)
   local kinds = {}
   local names = { "page", "api", "start" }
   for index, share in ipairs(split(mix, ",")) do
      for _ = 1, tonumber(share) do
         table.insert(kinds, names[index])
      end
   end
   assert(#kinds == 100, "the mix must add up to 100 per cent: " .. mix)
   math.randomseed(seed)
   for i = #kinds, 2, -1 do
      local j = math.random(i)
      kinds[i], kinds[j] = kinds[j], kinds[i]
   end
   return kinds
end

function init(args)
   users = read_users(args[1])
   schedule = schedule_of(args[2] or "70,20,10", 20261124 + id)
   counter = 0
   statuses = {}
   requests_by_kind = { page = 0, api = 0, start = 0 }
   prepared = {}
   for index, user in ipairs(users) do
      local cookie = { ["Cookie"] = "phb_session=" .. user.token }
      prepared[index] = {
         page = wrk.format("GET", "/family/budgets/" .. user.budget, cookie),
         api = wrk.format("GET", "/api/v1/family/budgets/" .. user.budget,
                          { ["Cookie"] = cookie["Cookie"], ["Accept"] = "application/json" }),
      }
   end
   start_request = wrk.format("GET", "/", { ["Accept"] = "text/html" })
   think_ms = tonumber(args[3] or "0")
end

function delay()
   if think_ms > 0 then
      return math.random(0, 2 * think_ms)
   end
   return 0
end

function request()
   local kind = schedule[(counter % #schedule) + 1]
   local user = prepared[((counter + id * 7) % #users) + 1]
   counter = counter + 1
   requests_by_kind[kind] = requests_by_kind[kind] + 1
   if kind == "start" then
      return start_request
   end
   return user[kind]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

local function json_of(value)
   if type(value) == "table" then
      local parts = {}
      for key, item in pairs(value) do
         table.insert(parts, string.format("%q:%s", tostring(key), json_of(item)))
      end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return tostring(value)
end

function done(summary, latency, requests)
   local all_statuses = {}
   local issued = { page = 0, api = 0, start = 0 }
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         all_statuses[status] = (all_statuses[status] or 0) + count
      end
      for kind, count in pairs(thread:get("requests_by_kind")) do
         issued[kind] = issued[kind] + count
      end
   end
   local result = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      errors = {
         connect = summary.errors.connect, read = summary.errors.read, write = summary.errors.write,
         status = summary.errors.status, timeout = summary.errors.timeout,
      },
      statuses = all_statuses,
      issued = issued,
      latency_us = {
         mean = latency.mean, stdev = latency.stdev, min = latency.min, max = latency.max,
         p50 = latency:percentile(50), p90 = latency:percentile(90), p95 = latency:percentile(95),
         p99 = latency:percentile(99),
      },
   }
   io.write("WEB_LOAD_RESULT " .. json_of(result) .. "\n")
end
