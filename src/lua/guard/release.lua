-- Library, not a script: prepended to approve.lua, reject.lua and expire.lua (see src/lua/scripts.ts).
-- Releases a held batch's charge on the held-usage hash; called by every script that moves a batch
-- out of `held`. `heldBy` is removed, so a batch is released once.
local function release(hk, usage)
  local f = redis.call('HMGET', hk, 'heldBy', 'count')
  if not f[1] then return end
  local c = tonumber(f[2] or '0')
  local function dec(field, by)
    if redis.call('HINCRBY', usage, field, -by) <= 0 then redis.call('HDEL', usage, field) end
  end
  dec('batches:' .. f[1], 1)
  dec('items:' .. f[1], c)
  dec('items', c)
  redis.call('HDEL', hk, 'heldBy')
end
