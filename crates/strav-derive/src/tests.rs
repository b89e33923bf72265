//! Snapshot tests of what each macro expands to, printed as formatted Rust
//! so a change to the generated code reads as a diff of code in review,
//! and of the errors misuse gets, with where each points.
//!
//! They run the macros over `proc_macro2` tokens: read, check, expand, as
//! the entry points do. Each snapshot's header repeats its input. Spans
//! inside the generated code do not show here; the trybuild tests under
//! `tests/ui` cover what they make the compiler say.

use proc_macro2::TokenStream;
use quote::quote;

/// Tokens as formatted Rust items.
fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the tokens parse as Rust items");
    prettyplease::unparse(&file)
}

/// Snapshots what `expand` makes of `input`, with the input in the header.
fn assert_expands(
    name: &str,
    input: TokenStream,
    expand: fn(&syn::DeriveInput) -> syn::Result<TokenStream>,
) {
    let derive_input: syn::DeriveInput = syn::parse2(input.clone()).expect("a derive input");
    let output = expand(&derive_input).unwrap_or_else(|e| panic!("{name} did not expand: {e}"));
    insta::with_settings!({ description => pretty(input), omit_expression => true }, {
        insta::assert_snapshot!(name, pretty(output));
    });
}

#[test]
fn model_per_tenant_with_enum_column_and_generated_key() {
    assert_expands(
        "model_per_tenant",
        quote! {
            #[strav(table = "orders", domain = "tenant")]
            pub struct Order {
                #[strav(primary_key, generated)]
                pub id: i64,
                pub customer: String,
                #[strav(default, sql_type = "order_status")]
                pub status: OrderStatus,
                #[strav(default, sql_type = "order_status[]")]
                pub history: Vec<OrderStatus>,
                pub note: Option<String>,
            }
        },
        crate::model,
    );
}

#[test]
fn model_fixed_schema() {
    assert_expands(
        "model_fixed_schema",
        quote! {
            #[strav(table = "users", schema = "public")]
            pub struct User {
                #[strav(primary_key, generated)]
                pub id: i64,
                pub name: String,
                #[strav(default)]
                pub role: String,
            }
        },
        crate::model,
    );
}

#[test]
fn model_composite_key() {
    assert_expands(
        "model_composite_key",
        quote! {
            #[strav(table = "order_lines", domain = "tenant")]
            struct Line {
                #[strav(primary_key)]
                order_id: i64,
                #[strav(primary_key)]
                line_no: i16,
                qty: i32,
            }
        },
        crate::model,
    );
}

#[test]
fn model_without_primary_key() {
    assert_expands(
        "model_no_primary_key",
        quote! {
            #[strav(table = "events", no_primary_key)]
            pub(crate) struct Event {
                name: String,
                #[strav(default)]
                at: chrono::DateTime<chrono::Utc>,
            }
        },
        crate::model,
    );
}

#[test]
fn model_renamed_columns_and_raw_identifiers() {
    assert_expands(
        "model_renamed_columns",
        quote! {
            #[strav(table = "documents")]
            pub struct Document {
                #[strav(primary_key, column = "document_id")]
                pub id: uuid::Uuid,
                #[strav(column = "type")]
                pub r#type: String,
                pub r#ref: String,
                #[strav(column = "placed_at", generated)]
                pub placed: chrono::DateTime<chrono::Utc>,
            }
        },
        crate::model,
    );
}

#[test]
fn model_with_new_struct_options() {
    assert_expands(
        "model_new_struct_options",
        quote! {
            #[strav(table = "notes", new = "NoteDraft", no_from_row, no_new_default)]
            pub struct Note {
                #[strav(primary_key, generated)]
                pub id: i32,
                pub body: String,
            }
        },
        crate::model,
    );
}

#[test]
fn enum_with_renamed_variant() {
    assert_expands(
        "enum_renamed_variant",
        quote! {
            #[strav(type_name = "order_status")]
            pub enum OrderStatus {
                Pending,
                Paid,
                #[strav(rename = "on-hold")]
                OnHold,
                PartlyRefunded,
            }
        },
        crate::pg_enum,
    );
}

#[test]
fn embed_migrations_from_fixture_directory() {
    let output = crate::migrations(&syn::parse_quote!("tests/fixtures/migrations"))
        .expect("the fixture directory is readable");
    // `include_str!` takes absolute paths; the checkout's location is no
    // part of what the snapshot pins down.
    let text = pretty(quote! {
        fn migrations() {
            let _ = #output;
        }
    })
    .replace(env!("CARGO_MANIFEST_DIR"), "$CARGO_MANIFEST_DIR");
    insta::with_settings!({
        description => r#"embed_migrations!("tests/fixtures/migrations")"#,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("embed_migrations", text);
    });
}

/// Every error `expand` reports for `source`, one a line as
/// `line:column: message`, in the order the compiler will show them.
///
/// Read from text rather than `quote!` so spans have positions to print.
fn errors(source: &str, expand: fn(&syn::DeriveInput) -> syn::Result<TokenStream>) -> String {
    let derive_input: syn::DeriveInput = syn::parse_str(source).expect("a derive input");
    let Err(error) = expand(&derive_input) else {
        panic!("expected errors, got an expansion");
    };
    error
        .into_iter()
        .map(|e| {
            let at = e.span().start();
            format!("{}:{}: {e}\n", at.line, at.column + 1)
        })
        .collect()
}

#[test]
fn model_reports_every_error_at_once() {
    let source = r#"
#[strav(tabel = "orders", schema = "public")]
#[strav(no_primary_key)]
struct Order {
    #[strav(primary_key, generated, default)]
    id: i64,
    #[strav(column = "a", column = "b")]
    name: String,
    #[strav(sql_typ = "text")]
    note: String,
}
"#;
    insta::with_settings!({ description => source, omit_expression => true }, {
        insta::assert_snapshot!("model_errors", errors(source, crate::model));
    });
}

#[test]
fn model_of_the_wrong_shape_is_one_error() {
    let source = [
        r#"#[strav(tabel = "x")] enum Order { A }"#,
        r#"#[strav(tabel = "x")] struct Order(i64);"#,
        r#"#[strav(tabel = "x")] struct Order<T> { id: T }"#,
    ];
    let text: String = source.iter().map(|s| errors(s, crate::model)).collect();
    insta::with_settings!({ description => source.join("\n"), omit_expression => true }, {
        insta::assert_snapshot!("model_shape_errors", text);
    });
}

#[test]
fn enum_reports_every_error_at_once() {
    let source = r#"
#[strav(typename = "status")]
enum Status {
    Pending,
    #[strav(label = "paid")]
    Paid(u8),
    #[strav(rename = "pending")]
    Waiting,
}
"#;
    insta::with_settings!({ description => source, omit_expression => true }, {
        insta::assert_snapshot!("enum_errors", errors(source, crate::pg_enum));
    });
}

#[test]
fn enum_of_the_wrong_shape_is_one_error() {
    let source = r#"#[strav(typename = "x")] struct Status;"#;
    insta::with_settings!({ description => source, omit_expression => true }, {
        insta::assert_snapshot!("enum_shape_error", errors(source, crate::pg_enum));
    });
}

#[test]
fn embed_migrations_of_a_missing_directory_is_an_error() {
    let error = crate::migrations(&syn::parse_quote!("tests/fixtures/no_such_directory"))
        .expect_err("nothing to read");
    let message = error.to_string();
    assert!(
        message.starts_with("cannot read migrations directory ")
            && message.contains("tests/fixtures/no_such_directory"),
        "{message}"
    );
}

#[test]
fn an_insert_struct_name_that_is_no_identifier_is_an_error_not_a_panic() {
    let source = r#"
#[strav(table = "orders", new = "New Order")]
struct Order {
    #[strav(primary_key)]
    id: i64,
}
"#;
    let text = errors(source, crate::model);
    assert!(
        text.contains("`new = \"New Order\"` is not a Rust identifier"),
        "{text}"
    );
    assert!(text.starts_with("2:"), "reported at the attribute: {text}");
}
