//! Reading a page's HTML inputs: what a form asks for (a login form's fields, a page with one
//! password input) without a full HTML parser.

use regex::Regex;
use std::sync::LazyLock;

static INPUT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<input\b[^>]*>").expect("valid regex"));
static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)([a-z_:][-a-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#).expect("valid regex")
});

/// One `<input>`'s attributes (lower-cased names; `type` defaults to `text`).
pub struct Input {
    pub name: String,
    pub kind: String,
    pub value: String,
}

/// Every named `<input>` of a page, in order.
pub fn inputs(html: &str) -> Vec<Input> {
    INPUT
        .find_iter(html)
        .filter_map(|tag| {
            let mut name = None;
            let mut kind = "text".to_string();
            let mut value = String::new();
            for c in ATTRIBUTE.captures_iter(tag.as_str()) {
                let v = c
                    .get(2)
                    .or_else(|| c.get(3))
                    .or_else(|| c.get(4))
                    .map(|m| html_unescape(m.as_str()))
                    .unwrap_or_default();
                match c[1].to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "type" => kind = v.to_ascii_lowercase(),
                    "value" => value = v,
                    _ => {}
                }
            }
            name.filter(|n| !n.is_empty()).map(|name| Input { name, kind, value })
        })
        .collect()
}

/// The few entities a hidden value may carry.
fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// How many password inputs a page has (a login has one; a sign-up or a password change
/// asks twice or more).
pub fn password_inputs(html: &str) -> usize {
    inputs(html).iter().filter(|i| i.kind == "password").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_inputs_tell_a_login_from_a_sign_up() {
        assert_eq!(password_inputs("<input type=password name=p>"), 1);
        assert_eq!(
            password_inputs("<input type='password' name=p1><input TYPE=\"PASSWORD\" name=p2>"),
            2
        );
        assert_eq!(password_inputs("<p>password</p>"), 0);
    }
}
