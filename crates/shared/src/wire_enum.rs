//! [`wire_enum!`]: an enum of statuses (or reasons) with one spelling per variant, used for
//! JSON, events and the database alike, so the three can never disagree.

/// Declares a fieldless enum whose variants each have one text form. It gets `as_str`, `parse`,
/// `ALL`, `Display`, serde (as that text) and sqlx encoding and decoding (as that text, on the
/// `Any` driver every store uses).
///
/// ```ignore
/// wire_enum! {
///     /// Where a ticket stands.
///     pub enum TicketStatus { ForSale = "for_sale", Sold = "sold" }
/// }
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The one text form: on the wire, in events and in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| {
                    let expected: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    <D::Error as ::serde::de::Error>::custom(format!(
                        "unknown {} `{text}`, expected one of {expected:?}",
                        stringify!($name)
                    ))
                })
            }
        }

        impl ::sqlx::Type<::sqlx::Any> for $name {
            fn type_info() -> ::sqlx::any::AnyTypeInfo {
                <&str as ::sqlx::Type<::sqlx::Any>>::type_info()
            }

            fn compatible(ty: &::sqlx::any::AnyTypeInfo) -> bool {
                <&str as ::sqlx::Type<::sqlx::Any>>::compatible(ty)
            }
        }

        impl<'q> ::sqlx::Encode<'q, ::sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <::sqlx::Any as ::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <&str as ::sqlx::Encode<'q, ::sqlx::Any>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for $name {
            fn decode(
                value: <::sqlx::Any as ::sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let text = <&str as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?;
                Self::parse(text).ok_or_else(|| {
                    format!("unknown {} `{text}` in the database", stringify!($name)).into()
                })
            }
        }
    };
}
