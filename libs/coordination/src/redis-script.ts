/**
 * Lua helper shared by every script: the owner token of a lease or lock value. Values are JSON
 * objects with a `token` field; anything else (a foreign or corrupt value) owns nothing.
 */
export const TOKEN_OF_LUA = `
local function token_of(v)
  if not v then return false end
  local ok, d = pcall(cjson.decode, v)
  if ok and type(d) == 'table' and type(d.token) == 'string' then return d.token end
  return false
end
`;

/** Extend a lease or lock only while it still holds the caller's token. KEYS: key; ARGV: token, ttlMs. */
export const RENEW_LUA = `${TOKEN_OF_LUA}
if token_of(redis.call('GET', KEYS[1])) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/**
 * Delete a lease or lock only while it still holds the caller's token, and optionally publish
 * that it is free. KEYS: key; ARGV: token, channel ('' for none), message.
 */
export const RELEASE_LUA = `${TOKEN_OF_LUA}
if token_of(redis.call('GET', KEYS[1])) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
  return 1
end
return 0
`;

export { runScript } from '@cronbundle/redis';
