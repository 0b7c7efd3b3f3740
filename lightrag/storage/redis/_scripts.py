"""Lua scripts keeping the doc status indexes consistent with the records (atomically).

Every script gets ``KEYS = [data, keys, idx, registry]`` and ``ARGV[1] = base``
(see ``lightrag.storage.redis.doc_status`` for the layout). ``idx`` holds, per
doc id, the JSON array ``[status, track_id or false, created_at, updated_at,
file_path]`` the record was indexed under, so the old entries can be removed
exactly when a record changes or goes. ``registry`` lists every index key ever
made, so that ``drop`` removes them without scanning the database.
"""

from __future__ import annotations

__all__ = ["DELETE", "DELETE_RANGE", "DROP", "UPSERT"]

_PRELUDE = r"""
local base = ARGV[1]
local fields = {'created_at', 'updated_at', 'file_path'}

local function touched(name)
  if redis.call('EXISTS', name) == 0 then
    redis.call('SREM', KEYS[4], name)
  end
end

local function unindex(id)
  local raw = redis.call('HGET', KEYS[3], id)
  if not raw then return end
  local o = cjson.decode(raw)
  local s = o[1]
  local k = base .. ':status:' .. s
  redis.call('ZREM', k, id)
  if redis.call('EXISTS', k) == 0 then
    redis.call('SREM', base .. ':statuses', s)
  end
  touched(k)
  if o[2] then
    k = base .. ':track:' .. o[2]
    redis.call('SREM', k, id)
    touched(k)
  end
  for i, f in ipairs(fields) do
    local m = o[i + 2] .. '\0' .. id
    k = base .. ':by:' .. f
    redis.call('ZREM', k, m)
    touched(k)
    k = base .. ':by:' .. f .. ':' .. s
    redis.call('ZREM', k, m)
    touched(k)
  end
  redis.call('HDEL', KEYS[3], id)
end

local function index(id, raw)
  local o = cjson.decode(raw)
  local s = o[1]
  local k = base .. ':status:' .. s
  redis.call('ZADD', k, 0, id)
  redis.call('SADD', KEYS[4], k)
  redis.call('SADD', base .. ':statuses', s)
  if o[2] then
    k = base .. ':track:' .. o[2]
    redis.call('SADD', k, id)
    redis.call('SADD', KEYS[4], k)
  end
  for i, f in ipairs(fields) do
    local m = o[i + 2] .. '\0' .. id
    k = base .. ':by:' .. f
    redis.call('ZADD', k, 0, m)
    redis.call('SADD', KEYS[4], k)
    k = base .. ':by:' .. f .. ':' .. s
    redis.call('ZADD', k, 0, m)
    redis.call('SADD', KEYS[4], k)
  end
  redis.call('HSET', KEYS[3], id, raw)
end

local function remove(id)
  unindex(id)
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
"""

UPSERT = (
    _PRELUDE
    + r"""
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  unindex(id)
  index(id, ARGV[i + 2])
  redis.call('HSET', KEYS[1], id, ARGV[i + 1])
  redis.call('ZADD', KEYS[2], 0, id)
end
return (#ARGV - 1) / 3
"""
)
"""ARGV[2..]: triples ``id, record JSON, index JSON``."""

DELETE = (
    _PRELUDE
    + r"""
for i = 2, #ARGV do
  remove(ARGV[i])
end
return #ARGV - 1
"""
)
"""ARGV[2..]: doc ids."""

DELETE_RANGE = (
    _PRELUDE
    + r"""
local ids = redis.call('ZRANGEBYLEX', KEYS[2], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  remove(id)
end
return #ids
"""
)
"""ARGV[2..4]: ``ZRANGEBYLEX`` min, max and how many to remove at most."""

DROP = (
    _PRELUDE
    + r"""
local names = redis.call('SMEMBERS', KEYS[4])
for i = 1, #names, 500 do
  redis.call('UNLINK', unpack(names, i, math.min(i + 499, #names)))
end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], base .. ':statuses')
return #names
"""
)
