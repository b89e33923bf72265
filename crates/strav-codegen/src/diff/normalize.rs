//! Comparing what a definition says with what PostgreSQL reports back.
//!
//! PostgreSQL re-prints a default from its parsed form (`pg_get_expr`): a literal
//! comes back with a cast (`'pending'::order_status`, `'{}'::text[]`, `'-1'::integer`),
//! arrays in `array_out` spelling (`{a,"b c"}`), `jsonb` re-serialised, uuids
//! lower-cased, timestamps in output format. Both sides are reduced to the same form
//! here, so an unchanged definition compares equal to the database it created.

use std::collections::BTreeSet;

/// A default reduced for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Norm {
    /// A constant: its text without quotes and casts, canonical for the column type.
    Value(String),
    /// Any other expression (`now()`), whitespace collapsed.
    Expr(String),
}

/// A serial column's default: `nextval('orders_id_seq'::regclass)`.
pub(crate) fn is_serial_default(default: Option<&str>) -> bool {
    default.is_some_and(|d| d.trim_start().starts_with("nextval("))
}

/// The sequence a `nextval('<name>'::regclass)` default draws from, as SQL
/// (`orders_id_seq`, `"Odd_seq"`).
pub(crate) fn sequence_of(default: &str) -> Option<String> {
    let inner = default.trim().strip_prefix("nextval(")?.strip_suffix(')')?;
    let (literal, _) = quoted(inner.trim())?;
    Some(literal)
}

/// The same type: identical spelling, or `public.x` against a bare `x` that is not an
/// enum of the domain itself (a type on the search path, such as an extension's).
pub(crate) fn same_type(a: &str, b: &str, local_enums: &BTreeSet<String>) -> bool {
    if a == b {
        return true;
    }
    let bare_equal = |qualified: &str, bare: &str| {
        qualified.strip_prefix("public.") == Some(bare)
            && !local_enums.contains(bare.trim_end_matches("[]"))
    };
    bare_equal(a, b) || bare_equal(b, a)
}

/// Two defaults mean the same: both absent, both serial, or equal once normalised.
pub(crate) fn same_default(
    from_ty: &str,
    from: Option<&str>,
    to_ty: &str,
    to: Option<&str>,
) -> bool {
    match (from, to) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let (sa, sb) = (is_serial_default(Some(a)), is_serial_default(Some(b)));
            if sa || sb {
                return sa && sb;
            }
            normalize_default(from_ty, a) == normalize_default(to_ty, b)
        }
        _ => false,
    }
}

/// Reduces a default of a column of type `ty` (canonical spelling) for comparison.
pub(crate) fn normalize_default(ty: &str, expr: &str) -> Norm {
    match literal_value(expr) {
        Some(value) => Norm::Value(canonical_value(ty, &value)),
        None => Norm::Expr(strip_outer_parens(&strip_literal_casts(
            &collapse_whitespace(expr),
        ))),
    }
}

/// `upper('x'::text)` → `upper('x')`: PostgreSQL types every literal in an
/// expression it prints back.
fn strip_literal_casts(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(start) = rest.find('\'') {
        out.push_str(&rest[..start]);
        let Some((_, after)) = quoted(&rest[start..]) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let literal_len = rest.len() - start - after.len();
        out.push_str(&rest[start..start + literal_len]);
        rest = after;
        if let Some(cast) = rest.strip_prefix("::") {
            let end = cast
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '.' | '"' | '[' | ']'))
                })
                .unwrap_or(cast.len());
            let type_name = cast[..end].trim_end();
            rest = &cast[type_name.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// `(now() + '1 day')` → `now() + '1 day'`, when the parentheses hold it all.
fn strip_outer_parens(expr: &str) -> String {
    match expr.strip_prefix('(') {
        Some(inner) if matching_paren(inner) == Some(inner.len() - 1) => {
            strip_outer_parens(inner[..inner.len() - 1].trim())
        }
        _ => expr.to_owned(),
    }
}

/// The elements of a one-dimensional array literal (`{a,"b c",NULL}`); `None` for
/// NULL elements; `None` overall when `text` is not such a literal.
pub(crate) fn array_elements(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut element = String::new();
            loop {
                match chars.next()? {
                    '\\' => element.push(chars.next()?),
                    '"' => break,
                    c => element.push(c),
                }
            }
            out.push(Some(element));
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            let mut element = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' || c == '}' || c == '"' {
                    // Nested arrays: not something a definition can declare.
                    return None;
                }
                element.push(c);
                chars.next();
            }
            let element = element.trim();
            out.push(if element.eq_ignore_ascii_case("null") {
                None
            } else {
                Some(element.to_owned())
            });
        }
        match chars.next() {
            None => return Some(out),
            Some(',') => continue,
            Some(_) => return None,
        }
    }
}

/// `'text'` with `''` escapes at the start of `s`: the unescaped text and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut iter = body.char_indices();
    while let Some((i, c)) = iter.next() {
        if c == '\'' {
            if body[i + 1..].starts_with('\'') {
                out.push('\'');
                iter.next();
            } else {
                return Some((out, &body[i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// The value of a constant default: a quoted string, a number or a boolean, possibly
/// parenthesised, followed by nothing but casts (`::text`, `::character varying(10)[]`).
fn literal_value(expr: &str) -> Option<String> {
    let s = expr.trim();
    let (value, rest) = if let Some((value, rest)) = quoted(s) {
        (value, rest)
    } else if let Some(inner) = s.strip_prefix('(') {
        let close = matching_paren(inner)?;
        (literal_value(&inner[..close])?, &inner[close + 1..])
    } else {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')))
            .unwrap_or(s.len());
        let token = &s[..end];
        if !is_number(token) && !matches!(token.to_ascii_lowercase().as_str(), "true" | "false") {
            return None;
        }
        (token.to_ascii_lowercase(), &s[end..])
    };
    only_casts(rest).then_some(value)
}

/// The index of the `)` closing an already opened `(` in `s`, skipping quoted text.
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 1;
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '(' if !in_quote => depth += 1,
            ')' if !in_quote => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn only_casts(rest: &str) -> bool {
    let rest = rest.trim();
    rest.is_empty()
        || (rest.starts_with("::")
            && rest.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, ':' | '_' | ' ' | '.' | '"' | '(' | ')' | ',' | '[' | ']')
            }))
}

fn is_number(token: &str) -> bool {
    let t = token.strip_prefix(['-', '+']).unwrap_or(token);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty())
        && digits(int)
        && digits(frac)
        && exponent.is_none_or(|e| {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        })
}

/// The value as PostgreSQL would print it back, for the types whose output differs
/// from what a definition may write.
fn canonical_value(ty: &str, value: &str) -> String {
    if let Some(element_ty) = ty.strip_suffix("[]") {
        return match array_elements(value) {
            Some(elements) => {
                let parts: Vec<String> = elements
                    .iter()
                    .map(|e| match e {
                        None => "NULL".to_owned(),
                        Some(e) => format!("\"{}\"", canonical_value(element_ty, e)),
                    })
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            None => value.to_owned(),
        };
    }
    let number = |v: &str| {
        let v = v.strip_prefix('+').unwrap_or(v);
        v.to_owned()
    };
    match ty {
        "uuid" | "boolean" => value.to_ascii_lowercase(),
        "jsonb" => canonical_jsonb(value).unwrap_or_else(|| value.to_owned()),
        "smallint" | "integer" | "bigint" | "real" | "double precision" => number(value),
        t if t.starts_with("numeric") => number(value),
        t if t.starts_with("timestamp") => {
            let mut v = value.trim().replacen('T', " ", 1);
            if let Some(stripped) = v.strip_suffix('Z') {
                v = format!("{stripped}+00");
            } else if let Some(stripped) = v.strip_suffix("+00:00") {
                v = format!("{stripped}+00");
            }
            v
        }
        _ => value.to_owned(),
    }
}

/// JSON text as jsonb keeps it: no insignificant whitespace, object keys
/// ordered by length and then bytes, the last of duplicate keys kept. `None`
/// when `text` is not JSON.
fn canonical_jsonb(text: &str) -> Option<String> {
    let mut parser = Json {
        s: text.as_bytes(),
        at: 0,
    };
    let value = parser.value()?;
    parser.space();
    (parser.at == parser.s.len()).then_some(value)
}

/// A small JSON reader that writes each value back in canonical form as it goes.
struct Json<'a> {
    s: &'a [u8],
    at: usize,
}

impl Json<'_> {
    fn space(&mut self) {
        while self.s.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<String> {
        self.space();
        match *self.s.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut members: Vec<(String, String)> = Vec::new();
                self.space();
                if self.s.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Some("{}".to_owned());
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    self.space();
                    (self.s.get(self.at) == Some(&b':')).then_some(())?;
                    self.at += 1;
                    let value = self.value()?;
                    members.retain(|(k, _)| *k != key);
                    members.push((key, value));
                    self.space();
                    match self.s.get(self.at)? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                members.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
                let parts: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                Some(format!("{{{}}}", parts.join(",")))
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.s.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Some("[]".to_owned());
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    match self.s.get(self.at)? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                Some(format!("[{}]", items.join(",")))
            }
            b'"' => self.string(),
            _ => {
                let start = self.at;
                while self
                    .s
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
                {
                    self.at += 1;
                }
                let token = std::str::from_utf8(&self.s[start..self.at]).ok()?;
                (is_number(token) || matches!(token, "true" | "false" | "null"))
                    .then(|| token.to_owned())
            }
        }
    }

    /// A string literal, quotes and escapes as written.
    fn string(&mut self) -> Option<String> {
        (self.s.get(self.at) == Some(&b'"')).then_some(())?;
        let start = self.at;
        self.at += 1;
        loop {
            match *self.s.get(self.at)? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return String::from_utf8(self.s[start..self.at].to_vec()).ok();
                }
                _ => self.at += 1,
            }
        }
    }
}

/// Whitespace outside quotes collapsed to single spaces.
fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_quote = false;
    let mut pending_space = false;
    for c in s.trim().chars() {
        if !in_quote && c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if c == '\'' {
            in_quote = !in_quote;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Norm {
        Norm::Value(s.into())
    }

    #[test]
    fn postgres_spellings_of_constants_reduce_to_the_definition_value() {
        for (ty, pg, ours) in [
            ("order_status", "'pending'::order_status", "'pending'"),
            ("user_role", "'member'::public.user_role", "'member'"),
            ("integer", "'-1'::integer", "-1"),
            ("bigint", "'-5'::integer", "-5"),
            ("integer", "0", "0"),
            ("numeric(12,2)", "0.00", "0.00"),
            ("double precision", "'-2.5'::numeric", "-2.5"),
            ("boolean", "true", "true"),
            ("text", "'physical'::text", "'physical'"),
            ("character varying(10)", "'x'::character varying", "'x'"),
            ("character(5)", "'en_US'::bpchar", "'en_US'"),
            ("text[]", "'{}'::text[]", "'{}'"),
            ("text[]", "'{a,\"b c\"}'::text[]", "'{\"a\",\"b c\"}'"),
            ("user_role[]", "'{member}'::user_role[]", "'{\"member\"}'"),
            ("double precision[]", "'{}'::double precision[]", "'{}'"),
            ("json", "'{}'::json", "'{}'"),
            ("jsonb", "'{\"a\": 1}'::jsonb", "'{ \"a\" : 1 }'"),
            (
                "jsonb",
                "'{\"a\": [1, 2], \"b\": 1, \"aa\": {}}'::jsonb",
                "'{\"aa\": {}, \"b\": 0, \"a\": [1,2], \"b\": 1}'",
            ),
            ("date", "'2026-01-01'::date", "'2026-01-01'"),
            (
                "time without time zone",
                "'06:00:00'::time without time zone",
                "'06:00:00'",
            ),
            (
                "timestamp with time zone",
                "'2026-01-01 09:00:00+00'::timestamp with time zone",
                "'2026-01-01T09:00:00Z'",
            ),
            (
                "uuid",
                "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
                "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
            ),
            ("text", "'it''s'::text", "'it''s'"),
            ("date", "('2026-01-01'::text)::date", "'2026-01-01'"),
        ] {
            assert_eq!(
                normalize_default(ty, pg),
                normalize_default(ty, ours),
                "{ty}: {pg} vs {ours}"
            );
            assert!(matches!(normalize_default(ty, pg), Norm::Value(_)), "{pg}");
        }
        assert_eq!(normalize_default("text", "'it''s'::text"), v("it's"));
    }

    #[test]
    fn expressions_stay_expressions() {
        assert_eq!(
            normalize_default("timestamp with time zone", "now()"),
            Norm::Expr("now()".into())
        );
        assert_eq!(
            normalize_default("text", "'a'::text || 'b'::text"),
            Norm::Expr("'a' || 'b'".into())
        );
        assert_eq!(
            normalize_default("text", "upper('x'::text)"),
            normalize_default("text", "upper('x')")
        );
        assert_eq!(
            normalize_default("timestamp with time zone", "(now() + '1 day'::interval)"),
            normalize_default("timestamp with time zone", "now() + '1 day'")
        );
        assert_ne!(
            normalize_default("text", "(a) || (b)"),
            normalize_default("text", "a) || (b")
        );
        assert_eq!(
            normalize_default("uuid", "gen_random_uuid( )"),
            Norm::Expr("gen_random_uuid( )".into())
        );
        assert_ne!(
            normalize_default("text", "'a'"),
            normalize_default("text", "'b'")
        );
    }

    #[test]
    fn serial_defaults_and_sequences() {
        let d = "nextval('orders_id_seq'::regclass)";
        assert!(is_serial_default(Some(d)));
        assert_eq!(sequence_of(d).as_deref(), Some("orders_id_seq"));
        assert!(same_default(
            "bigint",
            Some(d),
            "bigint",
            Some("nextval('other_seq'::regclass)")
        ));
        assert!(!same_default("bigint", Some(d), "bigint", Some("0")));
        assert!(!same_default("bigint", Some(d), "bigint", None));
    }

    #[test]
    fn types_compare_with_public_on_the_path() {
        let local: BTreeSet<String> = ["plan".to_owned()].into();
        assert!(same_type("public.citext", "citext", &local));
        assert!(!same_type("public.plan", "plan", &local));
        assert!(!same_type("integer", "bigint", &local));
    }

    #[test]
    fn array_literals() {
        assert_eq!(
            array_elements("{a,\"b c\",NULL, d }"),
            Some(vec![
                Some("a".into()),
                Some("b c".into()),
                None,
                Some("d".into())
            ])
        );
        assert_eq!(array_elements("{}"), Some(vec![]));
        assert_eq!(
            array_elements("{\"x\\\"y\"}"),
            Some(vec![Some("x\"y".into())])
        );
        assert_eq!(array_elements("{{1},{2}}"), None);
        assert_eq!(array_elements("nope"), None);
    }
}
