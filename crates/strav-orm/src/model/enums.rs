//! Support for `#[derive(strav_orm::Enum)]`: PostgreSQL enums sent as text.
//!
//! A per-tenant domain's enum type exists once per tenant schema, with a
//! different OID in each. sqlx resolves a bound type's name to an OID once
//! per connection and caches it, so an enum bound by type would carry tenant
//! A's OID into tenant B's statements on a shared pool. Strav's enums are
//! therefore bound as text and cast in the SQL it writes
//! (`CAST($1 AS "order_status")`, resolved in the statement's own schema);
//! results decode by type *name*, which is the same in every tenant. In raw
//! SQL, cast such parameters yourself: `WHERE status = $1::order_status`.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, Postgres, Type, TypeInfo};

/// A Rust enum mapped to a PostgreSQL enum. Implemented by `#[derive(Enum)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a text or enum column type, so a string cannot be compared with or stored in it",
    label = "a string was given where the column holds `{Self}`",
    note = "pass a value of the column's type"
)]
pub trait PgEnum: Sized + Copy + Send + Sync + 'static {
    /// The PostgreSQL type's name (unqualified).
    const TYPE_NAME: &'static str;
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The label stored in the database.
    fn label(self) -> &'static str;
    /// The value for a stored label.
    fn from_label(label: &str) -> Option<Self>;
}

/// Whether a column of type `ty` can be read as / written from the enum
/// named `type_name`: the enum itself (in any schema) or text.
pub fn enum_compatible(ty: &PgTypeInfo, type_name: &str) -> bool {
    same_name(ty.name(), type_name) || <&str as Type<Postgres>>::compatible(ty)
}

/// Like [`enum_compatible`], for arrays of the enum.
pub fn enum_array_compatible(ty: &PgTypeInfo, type_name: &str) -> bool {
    let name = ty.name();
    let element = name
        .strip_suffix("[]")
        .or_else(|| name.strip_prefix('_'))
        .unwrap_or("");
    same_name(element, type_name) || <&str as sqlx::postgres::PgHasArrayType>::array_compatible(ty)
}

fn same_name(actual: &str, type_name: &str) -> bool {
    let unquoted = actual.trim_matches('"');
    unquoted == type_name || unquoted.rsplit('.').next() == Some(type_name)
}

/// Decodes a stored label into `E`, with an error naming the valid labels.
pub fn decode_enum_label<E: PgEnum>(value: PgValueRef<'_>) -> Result<E, BoxDynError> {
    let label = <&str as Decode<Postgres>>::decode(value)?;
    E::from_label(label).ok_or_else(|| {
        let valid: Vec<&str> = E::ALL.iter().map(|v| v.label()).collect();
        format!(
            "unknown {} label {label:?}; expected one of {valid:?}",
            E::TYPE_NAME
        )
        .into()
    })
}
