"""The Lua scripts of the shared near-duplicate index (hkcrawl/shared_near_duplicates.py).

Redis runs a script alone, so each is atomic: ``MATCH_ADD`` finds an article's
candidates, adds it and evicts what leaves the window in one step; ``NEIGHBOURS`` gives
a stored article's candidates. Both take the key prefix as ``KEYS[1]`` and build the
key names themselves (a standalone Redis, as scrapy-redis needs); ``ARGV[1..5]`` are
bands, rows, bucket hashes, threshold and signature bytes. Strings are compared byte
by byte, never with Lua's ``<`` (which follows the server's locale).
"""

from __future__ import annotations

_COMMON = """
local prefix = KEYS[1]
local bands, rows, shards = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local threshold, sig_bytes = tonumber(ARGV[4]), tonumber(ARGV[5])
local entries = prefix .. 'entries'

-- Each band's bucket: two polynomial hashes of all of its 16-bit values (exact in
-- doubles: below 2^53), the first picks the bucket hash, the second (4 bytes) is the
-- field. All of them: similar signatures share values, so a key from part of a band
-- would be a band of fewer rows. Returns {key, field, key, field, ...}.
local function buckets(sig)
  local found = {}
  for band = 0, bands - 1 do
    local values = {string.byte(sig, band * rows * 2 + 1, (band + 1) * rows * 2)}
    local h1, h2 = band, band
    for i = 1, #values, 2 do
      local value = values[i] + values[i + 1] * 256
      h1 = (h1 * 65537 + value) % 2147483647
      h2 = (h2 * 65599 + value) % 4294967291
    end
    found[#found + 1] = prefix .. 'b:' .. (h1 % shards)
    found[#found + 1] = string.char(band, math.floor(h2 / 16777216), math.floor(h2 / 65536) % 256,
      math.floor(h2 / 256) % 256, h2 % 256)
  end
  return found
end

local function parse(entry)
  local pos, sig = 6, false
  if string.byte(entry, 5) == 1 then
    sig = string.sub(entry, 6, 5 + sig_bytes)
    pos = 6 + sig_bytes
  end
  local hash_length = string.byte(entry, pos)
  return sig, string.sub(entry, pos + 1, pos + hash_length), string.sub(entry, pos + hash_length + 1)
end

local function seq_bytes(seq)
  return string.char(math.floor(seq / 16777216) % 256, math.floor(seq / 65536) % 256,
    math.floor(seq / 256) % 256, seq % 256)
end

-- The candidates in these buckets: {seq, entry, seq, entry, ...}, and each bucket's
-- value (by the index of its key in ``keys``; false when empty).
local function candidates(keys)
  local seqs, seen, values = {}, {}, {}
  for i = 1, #keys, 2 do
    local value = redis.call('HGET', keys[i], keys[i + 1])
    values[i] = value
    if value then
      for j = 1, #value, 4 do
        local a, b, c, d = string.byte(value, j, j + 3)
        local seq = ((a * 256 + b) * 256 + c) * 256 + d
        if not seen[seq] then
          seen[seq] = true
          seqs[#seqs + 1] = seq
        end
      end
    end
  end
  local found = {}
  if #seqs > 0 then
    local stored = redis.call('HMGET', entries, unpack(seqs))
    for i, seq in ipairs(seqs) do
      if stored[i] then
        found[#found + 1] = seq
        found[#found + 1] = stored[i]
      end
    end
  end
  return found, values
end
"""

MATCH_ADD = (
    _COMMON
    + """
local sig, published, article_id, body_hash = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local window, max_chain, hash_shards = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])

local function hashes(key)
  local a, b, c = string.byte(key, 1, 3)
  return prefix .. 'h:' .. ((a * 256 + b) * 256 + c) % hash_shards
end

local function similar(a, b)
  local same = 0
  for i = 1, sig_bytes, 2 do
    if string.sub(a, i, i + 1) == string.sub(b, i, i + 1) then same = same + 1 end
  end
  return same / (sig_bytes / 2) >= threshold
end

-- Is 'published .. id' x before y? Byte by byte (Lua's < on strings follows the locale).
local function before(x, y)
  for i = 1, math.min(#x, #y) do
    local a, b = string.byte(x, i), string.byte(y, i)
    if a ~= b then return a < b end
  end
  return #x < #y
end

local found, mine, values = {}, {}, {}
local index_it = sig ~= ''
if index_it then
  mine = buckets(sig)
  found, values = candidates(mine)
  for i = 2, #found, 2 do
    local other_sig, _, other_id = parse(found[i])
    if other_id == article_id and other_sig and similar(sig, other_sig) then index_it = false end
  end
end

local seq = redis.call('INCR', prefix .. 'next')
local entry = published .. (index_it and ('\\1' .. sig) or '\\0') .. string.char(#body_hash) .. body_hash .. article_id
redis.call('HSET', entries, seq, entry)
if index_it then
  local mark = seq_bytes(seq)
  for i = 1, #mine, 2 do
    local value = (values[i] or '') .. mark  -- as read above: nothing ran in between
    if #value > 4 * max_chain then value = string.sub(value, -4 * max_chain) end
    redis.call('HSET', mine[i], mine[i + 1], value)
  end
end

local previous = false
if body_hash ~= '' then
  previous = redis.call('HGET', hashes(body_hash), body_hash)
  if not previous or before(published .. article_id, previous) then
    redis.call('HSET', hashes(body_hash), body_hash, published .. article_id)
  end
end

-- Evict what fell out of the window, with its bucket entries and its body hash.
local oldest = tonumber(redis.call('GET', prefix .. 'oldest') or '1')
while oldest <= seq - window do
  local old = redis.call('HGET', entries, oldest)
  if old then
    local old_sig, old_hash, old_id = parse(old)
    if old_sig then
      local mark, old_buckets = seq_bytes(oldest), buckets(old_sig)
      for b = 1, #old_buckets, 2 do
        local key, field = old_buckets[b], old_buckets[b + 1]
        local value = redis.call('HGET', key, field)
        if value then
          local kept = {}
          for i = 1, #value, 4 do
            local chunk = string.sub(value, i, i + 3)
            if chunk ~= mark then kept[#kept + 1] = chunk end
          end
          if #kept == 0 then redis.call('HDEL', key, field) else redis.call('HSET', key, field, table.concat(kept)) end
        end
      end
    end
    if old_hash ~= '' then
      local named = redis.call('HGET', hashes(old_hash), old_hash)
      if named and string.sub(named, 5) == old_id then redis.call('HDEL', hashes(old_hash), old_hash) end
    end
    redis.call('HDEL', entries, oldest)
  end
  oldest = oldest + 1
end
redis.call('SET', prefix .. 'oldest', oldest)

local result = {seq, previous}
for _, value in ipairs(found) do result[#result + 1] = value end
return result
"""
)

NEIGHBOURS = (
    _COMMON
    + """
local entry = redis.call('HGET', entries, ARGV[6])
if not entry then return {} end
local sig = parse(entry)
if not sig then return {} end
local result = {entry}
local found = candidates(buckets(sig))
for _, value in ipairs(found) do result[#result + 1] = value end
return result
"""
)
