-- The sandbox scripts run in, built once per Lua state (chunk "=ember", so the
-- error handler can skip its frames). Redis 7.0 patches its Lua to mark tables
-- read-only; stock Lua 5.1 cannot, so the globals and every library table the
-- scripts see are empty proxies whose metatables read through to the real table
-- and refuse writes. The base functions that would bypass a proxy (next, pairs,
-- rawget, rawset, getmetatable, setmetatable) are wrapped to see through it.
--
-- Arguments (from Rust): the real globals table R, the Rust-side API (functions
-- that can raise errors are Rust, i.e. C functions to Lua, so a script's `return
-- f()` keeps its frame for the error's line as in Redis), the error handler.
local R, api, err_handler = ...
local normalize = api.normalize

local error, type, tostring, select, unpack = error, type, tostring, select, unpack
local raw_next, raw_pairs, raw_ipairs = next, pairs, ipairs
local raw_rawget, raw_rawset = rawget, rawset
local raw_getmetatable, raw_setmetatable = getmetatable, setmetatable
local raw_pcall, raw_xpcall = pcall, xpcall
local setfenv = setfenv

local READONLY = "Attempt to modify a readonly table"

-- proxy -> the real table behind it (weak, so proxies never pin anything).
local real_of = raw_setmetatable({}, { __mode = "k" })

local function deny()
    error(READONLY, 2)
end

local function protect(t, meta)
    local proxy = {}
    meta = meta or {}
    meta.__index = meta.__index or t
    meta.__newindex = deny
    raw_setmetatable(proxy, meta)
    real_of[proxy] = t
    return proxy
end


local redis = {}

-- redis.call, redis.pcall and redis.setresp are set by Rust for each run.
redis.set_repl = api.set_repl
redis.log = api.log
redis.sha1hex = api.sha1hex
redis.acl_check_cmd = api.acl_check_cmd

redis.replicate_commands = function()
    return true
end

redis.breakpoint = function()
    return false
end

redis.debug = function() end

redis.error_reply = function(...)
    local s = ...
    if select("#", ...) ~= 1 or type(s) ~= "string" then
        return { err = "ERR wrong number or type of arguments" }
    end
    if s:sub(1, 1) ~= "-" then
        s = "-" .. s
    end
    local space = s:find(" ", 1, true)
    local code, msg
    if space then
        code, msg = s:sub(2, space - 1), s:sub(space + 1)
    else
        code, msg = "ERR", s:sub(2)
    end
    msg = msg:gsub("^[\r\n]+", ""):gsub("[\r\n]+$", "")
    return { err = code .. " " .. msg }
end

redis.status_reply = function(...)
    local s = ...
    if select("#", ...) ~= 1 or type(s) ~= "string" then
        return { err = "ERR wrong number or type of arguments" }
    end
    return { ok = s }
end

redis.REDIS_VERSION = api.version
redis.REDIS_VERSION_NUM = api.version_num
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3

R.math.random = api.random
R.math.randomseed = api.randomseed

-- Base functions that must see through proxies: Rust (C functions to Lua, so
-- their argument errors name the script line even from a tail call).
local base = api.base_functions(real_of, raw_next, raw_ipairs, raw_setmetatable, READONLY)
R.next = base.next
R.pairs = base.pairs
R.ipairs = base.ipairs
R.rawget = base.rawget
R.rawset = base.rawset
R.setmetatable = base.setmetatable

local G -- the globals proxy, set below

-- pcall hands a Redis error table's message back as a string (Redis 7's
-- luaRedisPcall, for scripts written before errors became tables).
local function pcall_results(ok, ...)
    if not ok then
        local e = normalize((...))
        if type(e) == "table" and type(raw_rawget(e, "err")) == "string" then
            return false, e.err
        end
        return false, e
    end
    return ok, ...
end

R.pcall = function(f, ...)
    return pcall_results(raw_pcall(f, ...))
end

-- Remove what Redis does not load.
for _, name in raw_ipairs({ "dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy", "module", "require", "package", "gcinfo_" }) do
    raw_rawset(R, name, nil)
end

R.redis = redis
R.__redis__err__handler = err_handler

-- The string metatable stays reachable through getmetatable(""): hand out a
-- frozen copy whose __index is the protected string table.
local string_meta_proxy

R.getmetatable = function(v)
    if type(v) == "string" then
        return string_meta_proxy
    end
    if real_of[v] then
        local m = raw_getmetatable(v)
        return m.__metatable_view
    end
    return raw_getmetatable(v)
end

-- Freeze the libraries, then the globals themselves.
for _, lib in raw_ipairs({ "string", "table", "math", "coroutine", "redis", "cjson", "cmsgpack", "bit", "struct" }) do
    local t = raw_rawget(R, lib)
    if t ~= nil then
        raw_rawset(R, lib, protect(t))
    end
end

string_meta_proxy = protect({ __index = raw_rawget(R, "string") })

local globals_meta = {}
globals_meta.__index = function(_, name)
    local v = raw_rawget(R, name)
    if v == nil then
        error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
    end
    return v
end
G = protect(R, globals_meta)
globals_meta.__metatable_view = protect({ __index = globals_meta.__index })
raw_rawset(R, "_G", G)

-- The proxy becomes the running thread's global table, as Redis replaces its
-- globals with a read-only table: chunks that loadstring/load compile (and
-- coroutines) get it as their environment, so the stock functions can be used,
-- with their exact arguments and errors. (Binary chunks never load: the patched
-- Lua sends every chunk to the parser, see the ember-lua crate.)
setfenv(0, G)

-- The environment a function library loads in (FUNCTION LOAD): while loading
-- only `redis` exists, and it holds just the load-time API (register_function,
-- log and the constants), as in Redis; once `loaded()` is called the library's
-- functions see the full globals and API.
local function library_env(register)
    local loading = true
    local api = {
        register_function = register,
        log = api.log,
        LOG_DEBUG = redis.LOG_DEBUG,
        LOG_VERBOSE = redis.LOG_VERBOSE,
        LOG_NOTICE = redis.LOG_NOTICE,
        LOG_WARNING = redis.LOG_WARNING,
        REDIS_VERSION = redis.REDIS_VERSION,
        REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
    }
    local api_proxy = protect(api, {
        __index = function(_, name)
            local v = raw_rawget(api, name)
            if v == nil then
                error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
            end
            return v
        end,
    })
    local env_meta = {}
    env_meta.__index = function(_, name)
        if loading then
            if name == "redis" then
                return api_proxy
            end
            error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
        end
        local v = raw_rawget(R, name)
        if v == nil then
            error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
        end
        return v
    end
    local env = protect(R, env_meta)
    env_meta.__metatable_view = globals_meta.__metatable_view
    local function loaded()
        loading = false
    end
    return env, loaded
end

-- What Rust calls: run a function in the sandbox.
local function run(f)
    return raw_xpcall(f, err_handler)
end

-- Runs a function library's callback with its KEYS and ARGV tables.
local function run_function(f, keys, args)
    return raw_xpcall(function()
        return f(keys, args)
    end, err_handler)
end

return G, redis, run, library_env, run_function
