-- The guard's rolling window and its count by retirement time (src/guard/window.ts): check and
-- reserve in one step, so two submissions racing cannot both fit.
-- KEYS: actor set, total set, actor dry-run set, total dry-run set, due set (user -> when it is
-- retired, for users accepted without approval).
-- KEYS[6], read only with n real = -1: a staged users set whose members are the real users, due now
-- (a large import's users never pass through the process).
-- ARGV: now, window ms, threshold, reserve (1/0), n real, then n (user, due ms) pairs, then dry-run users.
-- Returns {admitted, actorCount, totalCount, cause} where the counts include the submitted users.
local now, win, limit, reserve = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local nReal = tonumber(ARGV[5])
local since = now - win
for i = 1, 5 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. since) end
local real, dues, dry = {}, {}, {}
if nReal < 0 then
  real = redis.call('SMEMBERS', KEYS[6])
  for i = 1, #real do dues[i] = now end
  nReal = 0
else
  for i = 0, nReal - 1 do
    real[#real + 1] = ARGV[6 + 2 * i]
    dues[#dues + 1] = tonumber(ARGV[7 + 2 * i])
  end
end
for i = 6 + 2 * nReal, #ARGV do dry[#dry + 1] = ARGV[i] end

local function counted(key, users)
  local n = redis.call('ZCARD', key)
  for _, u in ipairs(users) do
    if not redis.call('ZSCORE', key, u) then n = n + 1 end
  end
  return n
end
-- Dry runs have their own window: they retire nothing, so they never use up the real one.
local a, t = 0, 0
if #real > 0 then
  a, t = counted(KEYS[1], real), counted(KEYS[2], real)
  if a > limit or t > limit then return {0, a, t, 'window'} end
end
local ad, td = 0, 0
if #dry > 0 then
  ad, td = counted(KEYS[3], dry), counted(KEYS[4], dry)
  if ad > limit or td > limit then return {0, ad, td, 'window'} end
end

-- By retirement time: users already due within the window of each submitted user's moment, plus
-- the submitted users due there, must stay within the threshold. Users of this submission already
-- in the due set (a repeat, a moment brought forward) are counted once.
local function sorted(list)
  local c = {}
  for i, v in ipairs(list) do c[i] = v end
  table.sort(c)
  return c
end
-- How many values of a sorted list lie in [lo, hi].
local function within(list, lo, hi)
  local function first(x) -- first index with list[i] >= x
    local l, h = 1, #list + 1
    while l < h do
      local m = math.floor((l + h) / 2)
      if list[m] < x then l = m + 1 else h = m end
    end
    return l
  end
  local function after(x) -- first index with list[i] > x
    local l, h = 1, #list + 1
    while l < h do
      local m = math.floor((l + h) / 2)
      if list[m] <= x then l = m + 1 else h = m end
    end
    return l
  end
  return after(hi) - first(lo)
end
-- Skipped when the due set and the submission together cannot pass the threshold anyway.
local worst = 0
if redis.call('ZCARD', KEYS[5]) + #real > limit then
  local mine, existing = sorted(dues), {}
  for _, u in ipairs(real) do
    local s = redis.call('ZSCORE', KEYS[5], u)
    if s then existing[#existing + 1] = tonumber(s) end
  end
  existing = sorted(existing)
  for _, d in ipairs(dues) do
    local n = redis.call('ZCOUNT', KEYS[5], d - win, d + win) - within(existing, d - win, d + win)
      + within(mine, d - win, d + win)
    if n > worst then worst = n end
  end
end
if worst > limit then return {0, worst, worst, 'due'} end

if reserve == '1' then
  -- One ZADD per slice of members, not one per user: a 10,000-user batch is 20 calls instead of
  -- 20,000 (the slice stays far below unpack()'s stack limit).
  local function add(keyA, keyT, users)
    for first = 1, #users, 1000 do
      local args, k = {}, 0
      for i = first, math.min(first + 999, #users) do
        args[k + 1] = ARGV[1]
        args[k + 2] = users[i]
        k = k + 2
      end
      redis.call('ZADD', keyA, unpack(args))
      redis.call('ZADD', keyT, unpack(args))
    end
    redis.call('PEXPIRE', keyA, win + 1000)
    redis.call('PEXPIRE', keyT, win + 1000)
  end
  if #real > 0 then add(KEYS[1], KEYS[2], real) end
  if #dry > 0 then add(KEYS[3], KEYS[4], dry) end
  -- A user keeps its earliest moment (LT): a later repeat does not move a pending job, an earlier
  -- one does. One ZADD per slice of members, as above.
  local latest = 0
  for first = 1, #real, 1000 do
    local args, k = {}, 0
    for i = first, math.min(first + 999, #real) do
      args[k + 1] = dues[i]
      args[k + 2] = real[i]
      k = k + 2
      if dues[i] > latest then latest = dues[i] end
    end
    redis.call('ZADD', KEYS[5], 'LT', unpack(args))
  end
  if #real > 0 then
    local ttl = latest - now + win + 1000
    if redis.call('PTTL', KEYS[5]) < ttl then redis.call('PEXPIRE', KEYS[5], ttl) end
  end
end
if #real == 0 then return {1, ad, td, ''} end
return {1, a, t, ''}
