import { RedisScript } from '@im/realtime';

/*
 * One script, so no other sequencer's claim interleaves with ours; all or nothing per conversation.
 * KEYS: per conversation its high-water key, then its entries' idempotency keys.
 * ARGV: ttl, hwTtl, conversation count, then per conversation: entry count, fresh flag,
 *       then per entry: encoded assignment, seq.
 * Per conversation, the lowest seq we would newly hand out (keys not yet claimed) is fenced:
 * it must be above the high-water mark or, with no mark, come from a fresh block. A fenced
 * conversation writes nothing. Returns {fenced count, fenced indexes…, then per entry of the
 * other conversations the existing value or ''}.
 */
export const CLAIM_SCRIPT = new RedisScript(`
local ttl, hwTtl, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local k, a = 1, 4
local fenced, out = {}, {}
for c = 1, n do
  local hwKey = KEYS[k]
  local count, fresh = tonumber(ARGV[a]), ARGV[a + 1]
  k, a = k + 1, a + 2
  local entries, lowest, top, topText = {}, nil, nil, nil
  for e = 1, count do
    local key, value, seq = KEYS[k], ARGV[a], tonumber(ARGV[a + 1])
    local existing = redis.call('GET', key)
    entries[e] = { key, value, existing }
    if not existing then
      if lowest == nil or seq < lowest then lowest = seq end
      if top == nil or seq > top then top, topText = seq, ARGV[a + 1] end
    end
    k, a = k + 1, a + 2
  end
  local hw = redis.call('GET', hwKey)
  if lowest ~= nil and ((hw and lowest <= tonumber(hw)) or (not hw and fresh ~= '1')) then
    fenced[#fenced + 1] = c
  else
    for e = 1, count do
      if entries[e][3] then
        out[#out + 1] = entries[e][3]
      else
        redis.call('SET', entries[e][1], entries[e][2], 'EX', ttl)
        out[#out + 1] = ''
      end
    end
    if top ~= nil then redis.call('SET', hwKey, topText, 'EX', hwTtl) end
  end
end
local reply = { #fenced }
for i = 1, #fenced do reply[#reply + 1] = fenced[i] end
for i = 1, #out do reply[#reply + 1] = out[i] end
return reply`);
