import Crypto

/// One authentication failure counted by every gateway together: a Lua script that Redis runs atomically, on
/// Redis's own clock, with the rules of `InMemoryAuthFailureTracker`.
///
/// Keys: `KEYS[1]` the address's failures (a list of times, newest first), `KEYS[2]` the account's failures
/// (`"<time> <address>"`; any key when there is no account), `KEYS[3]` the address's ban in the ban list (a
/// failure from an address banned already, on a gateway whose mirror has not seen the ban yet, counts for
/// nothing), `KEYS[4]` and `KEYS[5]` the offenses of the address and of the account, `KEYS[6]` the account's
/// lock in the ban list (a failure against an account locked already counts against the address alone; any key
/// when the account cannot be locked).
/// Arguments: `ARGV[1]` the window in microseconds, `ARGV[2]` `maxFailures`, `ARGV[3]` `minAccountShare`,
/// `ARGV[4]` how long offenses are remembered in milliseconds, `ARGV[5]` and `ARGV[6]` the prefixes of other
/// addresses' failure and offense keys, `ARGV[7]` the address, `ARGV[8]` `1` when there is an account, `ARGV[9]`
/// `1` when it can be locked.
///
/// A failure is in the window while `now - time < window`, as in memory. Each list keeps its newest
/// `maxFailures` entries (the only ones a decision needs) and expires a window after its last failure; an
/// offense count expires the offense memory after its last ban, so that the next ban doubles while it is
/// remembered. Times are whole microseconds written with `%.0f`: Lua numbers are doubles, exact below 2^53.
///
/// The reply is `{banned, locked, cause, address, offense, failures, ...}`: `banned` the milliseconds left on the
/// address's ban when it was banned already (then nothing else), `locked` those left on the account's lock when
/// it was locked already, each 0 otherwise; then one group per ban due, `cause` `address` (its own failures),
/// `account` (its share of a locked account's) or `lock` (the account's lock; the address is empty).
enum AuthFailureScript {
    static let source = source(clock: "redis.call('TIME')")

    /// The script with `clock` as the expression that reads `{seconds, microseconds}`; the tests pin it.
    static func source(clock: String) -> String {
        """
        local window = tonumber(ARGV[1])
        local limit = tonumber(ARGV[2])
        local min_share = tonumber(ARGV[3])
        local memory = tonumber(ARGV[4])
        local address = ARGV[7]
        local has_account = ARGV[8] == '1'
        local lockable = has_account and ARGV[9] == '1'
        local time = \(clock)
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local stamp = string.format('%.0f', now)
        local ttl = math.ceil(window / 1000)
        local banned = redis.call('PTTL', KEYS[3])
        if banned > 0 then return {banned, 0} end
        local locked = lockable and redis.call('PTTL', KEYS[6]) or 0
        if locked > 0 then has_account = false else locked = 0 end
        local function fresh(at) return now - tonumber(at) < window end
        local function push(key, entry)
          redis.call('LPUSH', key, entry)
          redis.call('LTRIM', key, 0, limit - 1)
          redis.call('PEXPIRE', key, ttl)
        end
        local out = {0, locked}
        local function ban(cause, who, offense_key, failures)
          local offense = redis.call('INCR', offense_key)
          redis.call('PEXPIRE', offense_key, memory)
          out[#out + 1] = cause
          out[#out + 1] = who
          out[#out + 1] = offense
          out[#out + 1] = failures
        end

        push(KEYS[1], stamp)
        local from_address = 0
        for _, at in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
          if fresh(at) then from_address = from_address + 1 end
        end
        local entries = {}
        if has_account then
          push(KEYS[2], stamp .. ' ' .. address)
          for _, entry in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
            local space = string.find(entry, ' ', 1, true)
            if space and fresh(string.sub(entry, 1, space - 1)) then
              entries[#entries + 1] = {entry, string.sub(entry, space + 1)}
            end
          end
        end

        if from_address >= limit then
          redis.call('DEL', KEYS[1])
          for _, entry in ipairs(entries) do
            if entry[2] == address then redis.call('LREM', KEYS[2], 0, entry[1]) end
          end
          ban('address', address, KEYS[4], from_address)
          return out
        end
        if #entries < limit then return out end

        local shares = {}
        local guessers = {}
        for _, entry in ipairs(entries) do
          local who = entry[2]
          if not shares[who] then
            shares[who] = 0
            guessers[#guessers + 1] = who
          end
          shares[who] = shares[who] + 1
        end
        table.sort(guessers)
        for _, who in ipairs(guessers) do
          if shares[who] >= min_share then
            redis.call('DEL', ARGV[5] .. who)
            ban('account', who, ARGV[6] .. who, shares[who])
          end
        end
        redis.call('DEL', KEYS[2])
        ban('lock', '', KEYS[5], #entries)
        return out
        """
    }

    /// The SHA-1 Redis names the loaded script by, for `EVALSHA`.
    static let sha1 = InsecureSHA1.hexForIdentifier(Array(source.utf8))
}
