//! Connection URLs in messages and records: the password hidden.

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db` (a password in the
/// query string, `?password=...`, is hidden too).
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***{host}"),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_password("postgres://me:s3cret@db:5432/x?options=-csearch_path%3Ds"),
            "postgres://me:***@db:5432/x?options=-csearch_path%3Ds"
        );
        assert_eq!(
            redact_password("postgresql://me:p@ss@db/x"),
            "postgresql://me:***@db/x"
        );
        assert_eq!(
            redact_password("postgres://me@db/x?password=hunter2&sslmode=disable"),
            "postgres://me@db/x?password=***&sslmode=disable"
        );
        assert_eq!(redact_password("postgres://db/x"), "postgres://db/x");
    }
}
