//! Lua run by Redis for operations that must read and write in one step.
//!
//! [`SET_MAX`] compares decimal integers digit by digit instead of with Lua numbers (doubles),
//! so values beyond 2^53 still compare exactly. `KEYS[1]` is the key, `ARGV[1]` the new value
//! (written by Rust, so canonical). It returns 1 when it stored the value, 0 when the key
//! already held an equal or larger integer, and an error reply when the key holds a value that
//! is not an integer (a `WRONGTYPE` from `GET` for non-strings propagates the same way).
pub(crate) const SET_MAX: &str = r"
local function parse(s)
  local sign, digits = string.match(s, '^(%-?)(%d+)$')
  if not digits then return nil end
  digits = (string.gsub(digits, '^0+', ''))
  if digits == '' then return false, '0' end
  return sign == '-', digits
end
local function cmp_abs(a, b)
  if #a ~= #b then return (#a < #b) and -1 or 1 end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return (x < y) and -1 or 1 end
  end
  return 0
end
local new_neg, new_digits = parse(ARGV[1])
if new_neg == nil then return redis.error_reply('ERR set_max: new value is not an integer') end
local cur = redis.call('GET', KEYS[1])
if cur then
  local cur_neg, cur_digits = parse(cur)
  if cur_neg == nil then
    return redis.error_reply('ERR set_max: current value is not an integer')
  end
  local smaller
  if cur_neg ~= new_neg then
    smaller = cur_neg
  elseif cur_neg then
    smaller = cmp_abs(cur_digits, new_digits) > 0
  else
    smaller = cmp_abs(cur_digits, new_digits) < 0
  end
  if not smaller then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
";

/// The `EVAL` command running [`SET_MAX`] for `key` and `value`.
pub(crate) fn set_max_cmd(key: &str, value: i64) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(SET_MAX).arg(1).arg(key).arg(value.to_string());
    cmd
}
