//! The tenant from the subdomain of `Host`: `acme.example.com` → `acme`.

use http::header::HOST;
use http::request::Parts;
use http::uri::Authority;

use super::Mapping;
use crate::error::TenantError;

/// Reads the tenant from the first label of the host, under a base domain.
///
/// - `acme.example.com` (base `example.com`) → `acme`, then the mapping;
/// - `example.com` (the apex) and ignored labels (`www`, `api` by default)
///   → no tenant;
/// - a host outside the base domain (`evil.com`,
///   `acme.example.com.evil.com`) → no tenant (a later resolver may know it);
/// - an empty label or more than one (`.example.com`, `a.b.example.com`) →
///   not a tenant ([`TenantError::InvalidName`]);
/// - two `Host` headers, a malformed host or port → [`TenantError::BadRequest`].
///
/// A port is ignored (`acme.example.com:8080`). Hosts are not case-folded:
/// browsers send them lower-case, and a label that is not a valid schema
/// name as sent (`ACME`) is refused rather than guessed at.
#[derive(Debug, Clone)]
pub struct Subdomain {
    base: String,
    ignored: Vec<String>,
    mapping: Mapping,
}

impl Subdomain {
    /// Tenants are the subdomains of `base` (e.g. `"example.com"`).
    pub fn new(base: &str) -> Self {
        Subdomain {
            base: base.trim_matches('.').to_owned(),
            ignored: vec!["www".into(), "api".into()],
            mapping: Mapping::Identity,
        }
    }

    /// Labels that are not tenants (replaces the default `www`, `api`).
    pub fn ignore<I, S>(mut self, labels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignored = labels.into_iter().map(Into::into).collect();
        self
    }

    /// How the label becomes a schema name (default: it is the name).
    pub fn mapping(mut self, mapping: Mapping) -> Self {
        self.mapping = mapping;
        self
    }

    pub(crate) fn resolve(&self, parts: &Parts) -> Result<Option<String>, TenantError> {
        let Some(host) = request_host(parts)? else {
            return Ok(None);
        };
        if host == self.base {
            return Ok(None);
        }
        let Some(label) = host
            .strip_suffix(self.base.as_str())
            .and_then(|h| h.strip_suffix('.'))
        else {
            return Ok(None);
        };
        if label.is_empty() {
            return Err(TenantError::invalid(
                label,
                "the host has an empty subdomain",
            ));
        }
        if label.contains('.') {
            return Err(TenantError::invalid(
                label,
                "a tenant is one label directly under the base domain",
            ));
        }
        if self.ignored.iter().any(|i| i == label) {
            return Ok(None);
        }
        Ok(Some(self.mapping.apply(label)))
    }
}

/// The request's host without port and trailing dot: the one `Host`
/// header, else the URI's authority (HTTP/2), else none.
pub(crate) fn request_host(parts: &Parts) -> Result<Option<String>, TenantError> {
    let mut hosts = parts.headers.get_all(HOST).iter();
    let raw = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => return Err(TenantError::BadRequest("more than one Host header")),
        (Some(value), None) => value
            .to_str()
            .map_err(|_| TenantError::BadRequest("the Host header is not visible ASCII"))?,
        (None, _) => match parts.uri.authority() {
            Some(authority) => authority.as_str(),
            None => return Ok(None),
        },
    };
    if raw.contains('@') {
        return Err(TenantError::BadRequest(
            "the Host header carries user information",
        ));
    }
    let authority: Authority = raw
        .parse()
        .map_err(|_| TenantError::BadRequest("the Host header is not a valid host[:port]"))?;
    let host = authority.host();
    // Without user information the authority is the host, then `:port` or
    // nothing; http's own port accessors skip a port that does not parse.
    let port = authority.as_str().get(host.len()..).unwrap_or_default();
    if !port.is_empty()
        && port
            .strip_prefix(':')
            .is_none_or(|p| p.parse::<u16>().is_err())
    {
        return Err(TenantError::BadRequest(
            "the Host header's port is not a number",
        ));
    }
    Ok(Some(host.strip_suffix('.').unwrap_or(host).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(hosts: &[&str]) -> Parts {
        let mut builder = http::Request::builder().uri("/orders");
        for h in hosts {
            builder = builder.header(HOST, *h);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn resolve(hosts: &[&str]) -> Result<Option<String>, TenantError> {
        Subdomain::new("example.com").resolve(&parts(hosts))
    }

    #[test]
    fn labels_under_the_base_are_tenants() {
        assert_eq!(
            resolve(&["acme.example.com"]).unwrap().as_deref(),
            Some("acme")
        );
        assert_eq!(
            resolve(&["acme.example.com:8080"]).unwrap().as_deref(),
            Some("acme")
        );
        assert_eq!(
            resolve(&["acme.example.com."]).unwrap().as_deref(),
            Some("acme")
        );
        let prefixed = Subdomain::new("example.com").mapping(Mapping::Prefix("tenant_".into()));
        assert_eq!(
            prefixed
                .resolve(&parts(&["acme.example.com"]))
                .unwrap()
                .as_deref(),
            Some("tenant_acme")
        );
    }

    #[test]
    fn apex_ignored_and_foreign_hosts_name_no_tenant() {
        for host in [
            "example.com",
            "www.example.com",
            "api.example.com",
            "evil.com",
            "acme.example.com.evil.com",
            "notexample.com",
            "[::1]:80",
            "127.0.0.1:3000",
        ] {
            assert_eq!(resolve(&[host]).unwrap(), None, "{host}");
        }
        assert_eq!(resolve(&[]).unwrap(), None);
    }

    #[test]
    fn malformed_hosts_are_refused() {
        assert!(matches!(
            resolve(&[".example.com"]),
            Err(TenantError::InvalidName { .. })
        ));
        assert!(matches!(
            resolve(&["a.b.example.com"]),
            Err(TenantError::InvalidName { .. })
        ));
        for bad in [
            &["acme.example.com", "acme.example.com"][..],
            &["acme.example.com:99999"],
            &["acme.example.com:http"],
            &["u@acme.example.com"],
            &["acme example.com"],
        ] {
            assert!(
                matches!(resolve(bad), Err(TenantError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
