//! What a statement may do to its session, read from its text.
//!
//! Strav remembers each pooled connection's `search_path` and its prepared
//! statements. User SQL can change both behind its back, so before raw SQL
//! runs it is classified here, conservatively: a false positive costs one
//! `SET` (or one re-prepare) later, a false negative could route a tenant's
//! next statement to another tenant. The text is tokenized the way
//! PostgreSQL's lexer splits it (comments, nested block comments, string
//! literals with their escapes, quoted identifiers, dollar quotes), so case,
//! quoting, comments and schema qualification cannot hide a keyword.
//!
//! The search path is unknown after a statement when:
//! - any statement of the text starts with `SET`, `RESET`, `DISCARD`, `DO`,
//!   `CALL` or `EXECUTE` (a `DO` block or procedure may run `SET` inside; an
//!   `EXECUTE`d prepared statement may call `set_config`);
//! - `set_config` or `search_path` appears anywhere as an identifier (any
//!   case, quoted or not, qualified or not);
//! - `set_config` or `search_path` appears inside a string or dollar-quoted
//!   body (dynamic SQL), or a Unicode-escaped identifier (`U&"..."`) hides
//!   its spelling.
//!
//! Prepared statements are gone after `DISCARD` or `DEALLOCATE`.
//!
//! What no reading of the text can see: a function that changes the path
//! from the inside (a `set_config` call or `SET` in its body, without a
//! function-level `SET search_path` clause), called from an ordinary
//! statement or fired by a trigger.

/// Effects of a statement on session state Strav keeps track of.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effects {
    /// The session's `search_path` may differ afterwards.
    pub path: bool,
    /// Prepared statements may have been deallocated.
    pub statements: bool,
}

/// Classifies `sql` (one statement or a `;`-separated script).
///
/// An application runs the same few statement texts over and over, so each
/// thread remembers the last few it classified, by their full text (a
/// pointer could be reused by another text, the text cannot).
pub(crate) fn effects_of(sql: &str) -> Effects {
    const REMEMBERED: usize = 16;
    thread_local! {
        static RECENT: std::cell::RefCell<Vec<(Box<str>, Effects)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if let Some(i) = recent.iter().position(|(s, _)| **s == *sql) {
            let fx = recent[i].1;
            if i > 0 {
                let hit = recent.remove(i);
                recent.insert(0, hit);
            }
            return fx;
        }
        let fx = classify(sql);
        if recent.len() == REMEMBERED {
            recent.pop();
        }
        recent.insert(0, (sql.into(), fx));
        fx
    })
}

fn classify(sql: &str) -> Effects {
    let mut lexer = Lexer {
        s: sql.as_bytes(),
        i: 0,
    };
    let mut fx = Effects::default();
    let mut leading = true;
    while let Some(token) = lexer.next() {
        match token {
            Token::Semicolon => {
                leading = true;
                continue;
            }
            Token::Word(w) => {
                if leading {
                    let starts = |k: &str| w.eq_ignore_ascii_case(k.as_bytes());
                    if ["set", "reset", "discard", "do", "call", "execute"]
                        .iter()
                        .any(|k| starts(k))
                    {
                        fx.path = true;
                    }
                    if starts("discard") || starts("deallocate") {
                        fx.statements = true;
                    }
                }
                if is_path_word(w, true) {
                    fx.path = true;
                }
            }
            Token::QuotedIdent(w) => {
                if is_path_word(w, false) {
                    fx.path = true;
                }
            }
            Token::Text(body) => {
                if contains_path_word(body) {
                    fx.path = true;
                }
            }
            Token::Opaque => fx.path = true,
            Token::Other => {}
        }
        leading = false;
    }
    fx
}

fn is_path_word(w: &[u8], fold_case: bool) -> bool {
    ["set_config", "search_path"].iter().any(|k| {
        if fold_case {
            w.eq_ignore_ascii_case(k.as_bytes())
        } else {
            w == k.as_bytes()
        }
    })
}

fn contains_path_word(body: &[u8]) -> bool {
    ["set_config", "search_path"].iter().any(|k| {
        body.windows(k.len())
            .any(|win| win.eq_ignore_ascii_case(k.as_bytes()))
    })
}

enum Token<'a> {
    Word(&'a [u8]),
    QuotedIdent(&'a [u8]),
    /// The inside of a string literal or dollar-quoted body.
    Text(&'a [u8]),
    /// Something whose spelling cannot be read without decoding it.
    Opaque,
    Semicolon,
    Other,
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.i + ahead).copied()
    }

    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            let c = self.peek(0)?;
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.i += 1,
                b'-' if self.peek(1) == Some(b'-') => {
                    while let Some(c) = self.peek(0) {
                        self.i += 1;
                        if c == b'\n' {
                            break;
                        }
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
                _ => break,
            }
        }
        let c = self.peek(0)?;
        let token = match c {
            b';' => {
                self.i += 1;
                Token::Semicolon
            }
            b'\'' => self.string(false),
            b'"' => self.quoted_ident(),
            b'$' => self.dollar(),
            b'u' | b'U'
                if self.peek(1) == Some(b'&') && matches!(self.peek(2), Some(b'"' | b'\'')) =>
            {
                self.i += 2;
                match self.peek(0) {
                    Some(b'"') => self.quoted_ident(),
                    _ => self.string(false),
                };
                Token::Opaque
            }
            b'e' | b'E' if self.peek(1) == Some(b'\'') => {
                self.i += 1;
                self.string(true)
            }
            c if is_ident_start(c) => {
                let start = self.i;
                while self.peek(0).is_some_and(is_ident_char) {
                    self.i += 1;
                }
                Token::Word(&self.s[start..self.i])
            }
            _ => {
                self.i += 1;
                Token::Other
            }
        };
        Some(token)
    }

    fn block_comment(&mut self) {
        // PostgreSQL's block comments nest.
        let mut depth = 0usize;
        while self.i < self.s.len() {
            if self.peek(0) == Some(b'/') && self.peek(1) == Some(b'*') {
                depth += 1;
                self.i += 2;
            } else if self.peek(0) == Some(b'*') && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.i += 1;
            }
        }
    }

    /// `'...'` with `''` for a quote; with `escapes`, `\` escapes too (E'').
    fn string(&mut self, escapes: bool) -> Token<'a> {
        self.i += 1;
        let start = self.i;
        while let Some(c) = self.peek(0) {
            if escapes && c == b'\\' {
                self.i += 2;
            } else if c == b'\'' {
                if self.peek(1) == Some(b'\'') {
                    self.i += 2;
                } else {
                    let body = &self.s[start..self.i];
                    self.i += 1;
                    return Token::Text(body);
                }
            } else {
                self.i += 1;
            }
        }
        Token::Text(&self.s[start.min(self.s.len())..])
    }

    fn quoted_ident(&mut self) -> Token<'a> {
        self.i += 1;
        let start = self.i;
        let mut doubled = false;
        while let Some(c) = self.peek(0) {
            if c == b'"' {
                if self.peek(1) == Some(b'"') {
                    doubled = true;
                    self.i += 2;
                } else {
                    let body = &self.s[start..self.i];
                    self.i += 1;
                    // An identifier with `""` inside is never one we look for.
                    return if doubled {
                        Token::Other
                    } else {
                        Token::QuotedIdent(body)
                    };
                }
            } else {
                self.i += 1;
            }
        }
        Token::Opaque
    }

    /// `$1` (a parameter), or a dollar-quoted body `$tag$ ... $tag$`.
    fn dollar(&mut self) -> Token<'a> {
        let start = self.i;
        let mut j = self.i + 1;
        if self.s.get(j).is_some_and(u8::is_ascii_digit) {
            while self.s.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            self.i = j;
            return Token::Other;
        }
        if self.s.get(j).is_some_and(|&c| is_ident_start(c)) {
            while self
                .s
                .get(j)
                .is_some_and(|&c| is_ident_char(c) && c != b'$')
            {
                j += 1;
            }
        }
        if self.s.get(j) != Some(&b'$') {
            self.i += 1;
            return Token::Other;
        }
        let tag = &self.s[start..=j];
        let body_start = j + 1;
        let body_end = self.s[body_start..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map(|p| body_start + p);
        match body_end {
            Some(end) => {
                self.i = end + tag.len();
                Token::Text(&self.s[body_start..end])
            }
            None => {
                self.i = self.s.len();
                Token::Text(&self.s[body_start.min(self.s.len())..])
            }
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(sql: &str) -> bool {
        effects_of(sql).path
    }

    #[test]
    fn path_changes_in_any_spelling() {
        for sql in [
            "SET search_path TO x",
            "set schema 't_b'",
            "SeT sChEmA 't_b'",
            "  /* c */ -- line\n SET schema 'x'",
            "/* nested /* comment */ still */ SET schema 'x'",
            "SET LOCAL search_path = x",
            "RESET ALL",
            "reset search_path",
            "DISCARD ALL",
            "SELECT set_config($1, $2, false)",
            "SELECT SET_CONFIG('search_path', 'x', false)",
            "SELECT pg_catalog.set_config('search_path', 'x', false)",
            "SELECT \"set_config\"('search_path', 'x', false)",
            "SELECT pg_catalog . \"set_config\" ($1, $2, false)",
            "SELECT 1; SET schema 'x'",
            "SELECT 1;SET schema 'x'",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CALL p()",
            "EXECUTE stmt",
            "SELECT query_to_xml('select set_config(''search_path'',''x'',false)', true, true, '')",
            "SELECT $body$ SET search_path TO x $body$",
            "SELECT U&\"\\0073et_config\"('search_path', 'x', false)",
            "SELECT current_setting('search_path')",
        ] {
            assert!(path(sql), "{sql:?} may change the path");
        }
    }

    #[test]
    fn ordinary_statements_keep_the_path() {
        for sql in [
            "SELECT id FROM orders WHERE id = $1",
            "INSERT INTO settings (key) VALUES ('reset')",
            "UPDATE t SET a = 1 WHERE b = $2",
            "SELECT 'set schema x'",
            "SELECT \"Set_Config\" FROM t",
            "-- SET schema 'x'\nSELECT 1",
            "/* SET schema 'x' */ SELECT 1",
            "SELECT 1 AS do_it",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT $1::text, $12",
            "SELECT a$b FROM t",
        ] {
            assert!(!path(sql), "{sql:?} does not change the path");
        }
    }

    #[test]
    fn deallocation() {
        for sql in [
            "DISCARD ALL",
            "discard plans",
            "DEALLOCATE ALL",
            "deallocate sqlx_s_1",
        ] {
            assert!(effects_of(sql).statements, "{sql}");
        }
        assert!(!effects_of("SELECT 'deallocate all'").statements);
    }

    #[test]
    fn remembered_texts_keep_their_effects() {
        for _ in 0..3 {
            for sql in [
                "SET schema 'x'",
                "SELECT 1",
                "discard all",
                "SELECT 1 -- set",
            ] {
                assert_eq!(effects_of(sql), classify(sql), "{sql}");
            }
        }
        // More texts than are remembered, then the first again.
        for i in 0..40 {
            let _ = effects_of(&format!("SELECT {i}"));
        }
        assert!(effects_of("SET schema 'x'").path);
    }

    #[test]
    fn unterminated_input_is_not_a_panic() {
        for sql in [
            "SELECT 'abc",
            "SELECT \"abc",
            "SELECT $$abc",
            "/* open",
            "E'\\",
            "U&",
            "$",
            "$a",
        ] {
            let _ = effects_of(sql);
        }
    }
}
