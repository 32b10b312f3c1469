import { LuaScript } from "./lua.js";

/*
 * Keys, all under the prefix P (node and connection ids hold no ":"):
 *   P alive:<node>              string with a TTL: the node is alive while it exists
 *   P nodes                     set of nodes that registered and were not purged yet
 *   P node-conns:<node>         set of the node's connection ids
 *   P node-projects:<node>      set of projects the node has members in
 *   P node-runs:<node>          set of sessions whose run the node claimed
 *   P conn:<id>                 hash: session, node, at, messages, ttl (the owner's), user
 *                               (absent = anonymous); expires one node TTL after the
 *                               node's last heartbeat that still held it
 *   P owner:<session>           string u:<user> or a (anonymous), expires owner TTL after
 *                               the session's last admission or release
 *   P owners                    sorted set of session -> owner expiry (ms), for the cap
 *   P conn-projects:<id>        set of the connection's projects
 *   P session:<session>         set of connection ids
 *   P members:<node>:<project>  set of the project's connection ids on that node
 *   P run:<session>             hash: message, node, at
 *   P totals                    hash: connections, messages (cluster-wide, ever)
 *
 * Counting per node (rather than one global set) is what keeps ghosts out:
 * the moment a node's alive key expires, every read skips its sets, before
 * any clean-up has run. Live nodes purge dead nodes' keys later (presence.ts).
 *
 * Every script takes ARGV[1] = prefix and ARGV[2] = the calling node, which
 * always counts itself as alive: it is, and if its key expired (a stall, or a
 * Redis restart) its next heartbeat notices and restores its entries.
 */
const PRELUDE = `
local p, me = ARGV[1], ARGV[2]
local known = {}
local function alive(node)
  if node == me then return true end
  if known[node] == nil then known[node] = redis.call('EXISTS', p .. 'alive:' .. node) == 1 end
  return known[node]
end
local function live_nodes()
  local out = {me}
  for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
    if node ~= me and alive(node) then out[#out + 1] = node end
  end
  return out
end
local function project_count(project)
  local n = 0
  for _, node in ipairs(live_nodes()) do
    n = n + redis.call('SCARD', p .. 'members:' .. node .. ':' .. project)
  end
  return n
end
local function leave_project(node, id, project)
  local key = p .. 'members:' .. node .. ':' .. project
  redis.call('SREM', key, id)
  if redis.call('SCARD', key) == 0 then redis.call('SREM', p .. 'node-projects:' .. node, project) end
  redis.call('SREM', p .. 'conn-projects:' .. id, project)
end
local function remove_connection(node, id, with_projects)
  local key = p .. 'conn:' .. id
  local session = redis.call('HGET', key, 'session')
  if session then redis.call('SREM', p .. 'session:' .. session, id) end
  if with_projects then
    for _, project in ipairs(redis.call('SMEMBERS', p .. 'conn-projects:' .. id)) do
      leave_project(node, id, project)
    end
  end
  redis.call('DEL', key)
  redis.call('SREM', p .. 'node-conns:' .. node, id)
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function remember_owner(session, principal, ttl, only_if_new)
  local key = p .. 'owner:' .. session
  local set
  if only_if_new then set = redis.call('SET', key, principal, 'PX', ttl, 'NX')
  else set = redis.call('SET', key, principal, 'PX', ttl) end
  if set then redis.call('ZADD', p .. 'owners', string.format('%.0f', now_ms() + ttl), session) end
end
local function refresh_owner(session, ttl)
  if redis.call('PEXPIRE', p .. 'owner:' .. session, ttl) == 1 then
    redis.call('ZADD', p .. 'owners', 'XX', string.format('%.0f', now_ms() + ttl), session)
  end
end
local function set_run(session, message, node, at)
  local key = p .. 'run:' .. session
  local owner = redis.call('HGET', key, 'node')
  if owner and alive(owner) then return 0 end
  if owner then redis.call('SREM', p .. 'node-runs:' .. owner, session) end
  redis.call('DEL', key)
  redis.call('HSET', key, 'message', message, 'node', node, 'at', at)
  redis.call('SADD', p .. 'node-runs:' .. node, session)
  return 1
end
`;

const script = (body: string) => new LuaScript(PRELUDE + body);

/**
 * ARGV[3..13] = id, session, has_user (1/0), user, connected_at, node,
 * max_connections, max_per_session, owner_ttl_ms, max_sessions, conn_ttl_ms,
 * transport.
 * Returns ok or the refusal reason. Ghost members of a session (dead node)
 * are skipped; members whose hash is gone are dropped on the way. A session
 * with live members belongs to them even if its owner record expired.
 */
export const ADMIT = script(`
local id, session, has_user, user = ARGV[3], ARGV[4], ARGV[5] == '1', ARGV[6]
local owner_ttl = ARGV[11]
local principal = has_user and ('u:' .. user) or 'a'
local session_key = p .. 'session:' .. session
local owner = redis.call('GET', p .. 'owner:' .. session)
local live = 0
for _, member in ipairs(redis.call('SMEMBERS', session_key)) do
  local c = redis.call('HMGET', p .. 'conn:' .. member, 'node', 'user')
  if not c[1] then
    redis.call('SREM', session_key, member)
  elseif alive(c[1]) then
    live = live + 1
    if not owner then owner = c[2] and ('u:' .. c[2]) or 'a' end
  end
end
if owner and owner ~= principal then return 'forbidden' end
if live >= tonumber(ARGV[10]) then return 'session_full' end
local total = 0
for _, node in ipairs(live_nodes()) do total = total + redis.call('SCARD', p .. 'node-conns:' .. node) end
if total >= tonumber(ARGV[9]) then return 'server_full' end
if not owner then
  local owners = p .. 'owners'
  redis.call('ZREMRANGEBYSCORE', owners, '-inf', string.format('%.0f', now_ms()))
  if redis.call('ZCARD', owners) >= tonumber(ARGV[12]) then return 'too_many_sessions' end
end
local key = p .. 'conn:' .. id
redis.call('HSET', key, 'session', session, 'node', ARGV[8], 'at', ARGV[7], 'messages', 0, 'ttl', owner_ttl, 'transport', ARGV[14])
if has_user then redis.call('HSET', key, 'user', user) end
redis.call('PEXPIRE', key, ARGV[13])
redis.call('SADD', session_key, id)
redis.call('SADD', p .. 'node-conns:' .. ARGV[8], id)
redis.call('HINCRBY', p .. 'totals', 'connections', 1)
remember_owner(session, principal, owner_ttl)
return 'ok'
`);

/** ARGV[3] = id. Extends the session's owner record. Project memberships stay until leaveAll, as in memory. */
export const RELEASE = script(`
local c = redis.call('HMGET', p .. 'conn:' .. ARGV[3], 'node', 'session', 'ttl')
if not c[1] then return 0 end
if c[3] then refresh_owner(c[2], c[3]) end
remove_connection(c[1], ARGV[3], false)
return 1
`);

/** ARGV[3] = messages in total, then pairs of id, messages. Released connections are skipped. */
export const COUNT_MESSAGES = script(`
redis.call('HINCRBY', p .. 'totals', 'messages', ARGV[3])
for i = 4, #ARGV - 1, 2 do
  local key = p .. 'conn:' .. ARGV[i]
  if redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, 'messages', ARGV[i + 1]) end
end
return 1
`);

/** ARGV[3] = session. Returns id, node, user, has_user, at per live connection. */
export const SESSION_CONNECTIONS = script(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'session:' .. ARGV[3])) do
  local c = redis.call('HMGET', p .. 'conn:' .. id, 'node', 'user', 'at')
  if c[1] and alive(c[1]) then
    out[#out + 1] = id
    out[#out + 1] = c[1]
    out[#out + 1] = c[2] or ''
    out[#out + 1] = c[2] and '1' or '0'
    out[#out + 1] = c[3]
  end
end
return out
`);

/** Returns total connections, total messages, then id, session, node, user, has_user, at, messages, transport. */
export const STATISTICS = script(`
local totals = redis.call('HMGET', p .. 'totals', 'connections', 'messages')
local out = {totals[1] or '0', totals[2] or '0'}
for _, node in ipairs(live_nodes()) do
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'node-conns:' .. node)) do
    local c = redis.call('HMGET', p .. 'conn:' .. id, 'session', 'user', 'at', 'messages', 'transport')
    if c[1] then
      out[#out + 1] = id
      out[#out + 1] = c[1]
      out[#out + 1] = node
      out[#out + 1] = c[2] or ''
      out[#out + 1] = c[2] and '1' or '0'
      out[#out + 1] = c[3]
      out[#out + 1] = c[4] or '0'
      out[#out + 1] = c[5] or ''
    end
  end
end
return out
`);

/** ARGV[3] = project, ARGV[4] = id. Returns the live member count. */
export const PROJECT_JOIN = script(`
redis.call('SADD', p .. 'members:' .. me .. ':' .. ARGV[3], ARGV[4])
redis.call('SADD', p .. 'conn-projects:' .. ARGV[4], ARGV[3])
redis.call('SADD', p .. 'node-projects:' .. me, ARGV[3])
return project_count(ARGV[3])
`);

/** ARGV[3] = project, ARGV[4] = id. Returns the live member count. */
export const PROJECT_LEAVE = script(`
leave_project(me, ARGV[4], ARGV[3])
return project_count(ARGV[3])
`);

/** ARGV[3] = project. */
export const PROJECT_MEMBERS = script(`
return project_count(ARGV[3])
`);

/** ARGV[3] = id. */
export const PROJECT_LEAVE_ALL = script(`
for _, project in ipairs(redis.call('SMEMBERS', p .. 'conn-projects:' .. ARGV[3])) do
  leave_project(me, ARGV[3], project)
end
return 1
`);

/** ARGV[3..6] = session, message, node, started_at. A dead node's run does not block. */
export const RUN_CLAIM = script(`
return set_run(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`);

/** ARGV[3] = session, ARGV[4] = message. */
export const RUN_RELEASE = script(`
local key = p .. 'run:' .. ARGV[3]
local r = redis.call('HMGET', key, 'message', 'node')
if r[1] ~= ARGV[4] then return 0 end
redis.call('DEL', key)
redis.call('SREM', p .. 'node-runs:' .. r[2], ARGV[3])
return 1
`);

/** ARGV[3] = session. Returns message, node, at, or nil; a dead node's run is dropped. */
export const RUN_CURRENT = script(`
local key = p .. 'run:' .. ARGV[3]
local r = redis.call('HMGET', key, 'message', 'node', 'at')
if not r[1] then return false end
if alive(r[2]) then return r end
redis.call('DEL', key)
redis.call('SREM', p .. 'node-runs:' .. r[2], ARGV[3])
return false
`);

/**
 * ARGV[3] = TTL in ms, ARGV[4..] = the connections this node still holds.
 * Refreshes the caller's alive key and those connections' entries; an entry
 * the node no longer holds (a release that never reached Redis) expires on
 * its own and is swept from the node's set here. Returns 1 if the alive key
 * still existed (0 means this node was presumed dead and must restore its
 * entries), then the registered nodes that are dead.
 */
export const HEARTBEAT = script(`
local key = p .. 'alive:' .. me
local out = {redis.call('EXISTS', key)}
redis.call('SET', key, '1', 'PX', ARGV[3])
for i = 4, #ARGV do redis.call('PEXPIRE', p .. 'conn:' .. ARGV[i], ARGV[3]) end
local conns = p .. 'node-conns:' .. me
for _, id in ipairs(redis.call('SMEMBERS', conns)) do
  if redis.call('EXISTS', p .. 'conn:' .. id) == 0 then redis.call('SREM', conns, id) end
end
redis.call('SADD', p .. 'nodes', me)
for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if redis.call('EXISTS', p .. 'alive:' .. node) == 0 then out[#out + 1] = node end
end
return out
`);

/**
 * ARGV[3] = node, ARGV[4] = batch size, ARGV[5] = 1 when the node leaves itself.
 * Removes up to a batch of a dead node's connections per call so one call
 * never blocks Redis for long. Returns -1 if the node is alive again, 1 while
 * connections remain, 0 once every key of the node is gone.
 */
export const PURGE_NODE = script(`
local node = ARGV[3]
if ARGV[5] == '1' then
  redis.call('DEL', p .. 'alive:' .. node)
elseif redis.call('EXISTS', p .. 'alive:' .. node) == 1 then
  return -1
end
local conns = p .. 'node-conns:' .. node
for _, id in ipairs(redis.call('SRANDMEMBER', conns, ARGV[4])) do remove_connection(node, id, true) end
if redis.call('SCARD', conns) > 0 then return 1 end
local projects = p .. 'node-projects:' .. node
for _, project in ipairs(redis.call('SMEMBERS', projects)) do
  redis.call('DEL', p .. 'members:' .. node .. ':' .. project)
end
local runs = p .. 'node-runs:' .. node
for _, session in ipairs(redis.call('SMEMBERS', runs)) do
  local key = p .. 'run:' .. session
  if redis.call('HGET', key, 'node') == node then redis.call('DEL', key) end
end
redis.call('DEL', projects, runs)
redis.call('SREM', p .. 'nodes', node)
return 0
`);

/**
 * ARGV[3] = JSON {connections: [{id, session, user?, at, messages, ttl}],
 * memberships: [[id, project]], runs: [{session, message, at}]}, all strings;
 * ARGV[4] = the node TTL in ms.
 * Puts back the caller's own entries after it was presumed dead, or after it
 * admitted alone during an outage; caps are not checked, those clients are
 * connected already. An owner recorded meanwhile by another node is kept.
 */
export const RESTORE = script(`
local data = cjson.decode(ARGV[3])
for _, c in ipairs(data.connections) do
  local key = p .. 'conn:' .. c.id
  redis.call('HSET', key, 'session', c.session, 'node', me, 'at', c.at, 'messages', c.messages, 'ttl', c.ttl)
  if type(c.user) == 'string' then redis.call('HSET', key, 'user', c.user) end
  if type(c.transport) == 'string' then redis.call('HSET', key, 'transport', c.transport) end
  redis.call('PEXPIRE', key, ARGV[4])
  remember_owner(c.session, type(c.user) == 'string' and ('u:' .. c.user) or 'a', c.ttl, true)
  redis.call('SADD', p .. 'session:' .. c.session, c.id)
  redis.call('SADD', p .. 'node-conns:' .. me, c.id)
end
for _, m in ipairs(data.memberships) do
  redis.call('SADD', p .. 'members:' .. me .. ':' .. m[2], m[1])
  redis.call('SADD', p .. 'conn-projects:' .. m[1], m[2])
  redis.call('SADD', p .. 'node-projects:' .. me, m[2])
end
for _, r in ipairs(data.runs) do set_run(r.session, r.message, me, r.at) end
return 1
`);
