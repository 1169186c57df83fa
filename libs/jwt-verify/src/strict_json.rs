//! JSON object parsing that refuses duplicate keys (JWT-11).
//!
//! Derived `Deserialize` impls already reject a repeated *known* field, but skip unknown
//! ones, and a map would keep the last value. Here every top-level key is recorded (as a
//! 64-bit hash, on the stack) while the one and only parse runs, and a repeat fails
//! the parse. A hash collision can only cause a false rejection, never an acceptance.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

/// Parses `bytes` as a `T`, refusing duplicate top-level keys and trailing data.
/// Input that is not UTF-8 (RFC 8725 §3.7) is refused up front, which also lets the parser
/// skip per-string validation.
pub(crate) fn from_slice<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> serde_json::Result<T> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| <serde_json::Error as de::Error>::custom("payload is not UTF-8"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(Root(&mut de))?;
    de.end()?;
    Ok(value)
}

/// Set of key hashes seen so far; the first 32 live on the stack.
struct KeySet {
    /// One bit per hash bucket: a clear bit proves the key is new without a scan.
    mask: u64,
    small: [u64; 32],
    len: usize,
    spill: Vec<u64>,
}

impl KeySet {
    const fn new() -> Self {
        Self {
            mask: 0,
            small: [0; 32],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Records `key`; false when it was already present.
    fn insert(&mut self, key: &str) -> bool {
        // Word-at-a-time multiplicative hash over the whole key (length mixed in).
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let bytes = key.as_bytes();
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(w)
        };
        let mut h = (bytes.len() as u64).wrapping_mul(K);
        if bytes.len() >= 8 {
            let mut at = 0;
            while at + 8 < bytes.len() {
                h = (h.rotate_left(5) ^ word(at)).wrapping_mul(K);
                at += 8;
            }
            // The last (possibly overlapping) whole word: no partial copy, no stall.
            h = (h.rotate_left(5) ^ word(bytes.len() - 8)).wrapping_mul(K);
        } else {
            let mut w = 0u64;
            for (i, b) in bytes.iter().enumerate() {
                w |= u64::from(*b) << (8 * i);
            }
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let bit = 1u64 << (h >> 58);
        if self.mask & bit != 0 && (self.small[..self.len].contains(&h) || self.spill.contains(&h))
        {
            return false;
        }
        self.mask |= bit;
        if self.len < self.small.len() {
            self.small[self.len] = h;
            self.len += 1;
        } else {
            self.spill.push(h);
        }
        true
    }
}

struct Root<'a, 'de>(&'a mut serde_json::Deserializer<serde_json::de::StrRead<'de>>);

impl<'de> Deserializer<'de> for Root<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        self.0.deserialize_any(Objects(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> serde_json::Result<V::Value> {
        self.0.deserialize_struct(name, fields, Objects(visitor))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> serde_json::Result<V::Value> {
        self.0.deserialize_map(Objects(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

/// Wraps the top-level visitor so that the map it reads checks its keys.
struct Objects<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Objects<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(CheckedMap {
            inner: map,
            seen: KeySet::new(),
        })
    }
}

struct CheckedMap<A> {
    inner: A,
    seen: KeySet,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CheckedMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(KeySeed {
            seed,
            seen: &mut self.seen,
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct KeySeed<'s, K> {
    seed: K,
    seen: &'s mut KeySet,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<K::Value, D::Error> {
        self.seed.deserialize(KeyDe {
            inner: d,
            seen: self.seen,
        })
    }
}

struct KeyDe<'s, D> {
    inner: D,
    seen: &'s mut KeySet,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDe<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(KeyVisitor {
            inner: v,
            seen: self.seen,
        })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_identifier(KeyVisitor {
            inner: v,
            seen: self.seen,
        })
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_str(KeyVisitor {
            inner: v,
            seen: self.seen,
        })
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_string(KeyVisitor {
            inner: v,
            seen: self.seen,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        ignored_any
    }
}

struct KeyVisitor<'s, V> {
    inner: V,
    seen: &'s mut KeySet,
}

impl<V> KeyVisitor<'_, V> {
    fn record<E: de::Error>(&mut self, key: &str) -> Result<(), E> {
        if self.seen.insert(key) {
            Ok(())
        } else {
            Err(E::custom("duplicate key in JSON object"))
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Self::Value, E> {
        self.record(v)?;
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<Self::Value, E> {
        self.record(v)?;
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<Self::Value, E> {
        self.record(&v)?;
        self.inner.visit_string(v)
    }
}

#[cfg(test)]
mod tests {
    use super::from_slice;
    use std::collections::HashMap;

    #[derive(serde::Deserialize, Debug)]
    struct S {
        #[allow(dead_code)]
        a: u8,
    }

    #[test]
    fn duplicates_are_refused_known_or_not() {
        assert!(from_slice::<S>(br#"{"a":1}"#).is_ok());
        assert!(from_slice::<S>(br#"{"a":1,"a":2}"#).is_err());
        assert!(from_slice::<S>(br#"{"a":1,"x":2,"x":3}"#).is_err());
        assert!(from_slice::<S>(br#"{"a":1,"\u0061":1}"#).is_err());
        assert!(from_slice::<HashMap<String, u8>>(br#"{"k":1,"k":2}"#).is_err());
        assert!(from_slice::<S>(br#"{"a":1} x"#).is_err());
    }

    #[test]
    fn many_distinct_keys_spill_past_the_stack_set() {
        let body: Vec<String> = (0..100).map(|i| format!("\"k{i}\":1")).collect();
        let json = format!("{{\"a\":1,{}}}", body.join(","));
        assert!(from_slice::<S>(json.as_bytes()).is_ok());
        let json = format!("{{\"a\":1,{},\"k99\":2}}", body.join(","));
        assert!(from_slice::<S>(json.as_bytes()).is_err());
    }
}
