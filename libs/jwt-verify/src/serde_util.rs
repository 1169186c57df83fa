//! Small serde helpers for the claim structs.

use serde::Serializer;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// `skip_serializing_if` helper: omit `false`.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes fields by reference
pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}

/// `skip_serializing_if` helper: omit `0`.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde passes fields by reference
pub(crate) fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Reads a JSON array of strings, treating `null` as empty (Go marshals a nil slice as `null`).
pub(crate) fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_option(NullOrSeq)
}

struct NullOrSeq;

impl<'de> Visitor<'de> for NullOrSeq {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("null or an array of strings")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // JSON gives no length hint; start big enough for a typical permission list.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(16).min(64));
        while let Some(v) = seq.next_element::<String>()? {
            out.push(v);
        }
        Ok(out)
    }
}

/// `aud`: written as an array; read from an array or (RFC 7519 §4.1.3) a single string.
pub(crate) mod audience {
    use super::{Deserializer, SeqAccess, Serializer, Visitor, de};
    use std::fmt;

    pub(crate) fn serialize<S: Serializer>(aud: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(aud)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(AudVisitor)
    }

    struct AudVisitor;

    impl<'de> Visitor<'de> for AudVisitor {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(8));
            while let Some(v) = seq.next_element::<String>()? {
                out.push(v);
            }
            Ok(out)
        }
    }
}
