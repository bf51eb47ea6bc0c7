//! Reading a page's HTML without a full HTML parser: its `<input>`s, its `<form>`s (where
//! each posts, how, and what it asks for), its links and the scripts it loads. Generic
//! HTML only: what a form or a link means for authentication is the auth layer's business.

use regex::Regex;
use std::sync::LazyLock;

static INPUT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<input\b[^>]*>").expect("valid regex"));
static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)([a-z_:][-a-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"#).expect("valid regex")
});

static FORM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<form\b([^>]*)>(.*?)(?:</form\s*>|$)").expect("valid regex"));
static ANCHOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<a\b([^>]*)>(.*?)</a\s*>").expect("valid regex"));
static SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<script\b([^>]*)>(.*?)</script\s*>").expect("valid regex"));
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?s)<[^>]*>").expect("valid regex"));

/// One `<input>`'s attributes (lower-cased names; `type` defaults to `text`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
            let attrs = attributes(tag.as_str());
            let name = attrs.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone());
            let kind = attrs
                .iter()
                .find(|(k, _)| k == "type")
                .map(|(_, v)| v.to_ascii_lowercase())
                .unwrap_or_else(|| "text".to_string());
            let value = attrs
                .iter()
                .find(|(k, _)| k == "value")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            name.filter(|n| !n.is_empty()).map(|name| Input { name, kind, value })
        })
        .collect()
}

/// A tag's attributes, names lower-cased, values unescaped, in order.
fn attributes(tag: &str) -> Vec<(String, String)> {
    ATTRIBUTE
        .captures_iter(tag)
        .map(|c| {
            let v = c
                .get(2)
                .or_else(|| c.get(3))
                .or_else(|| c.get(4))
                .map(|m| html_unescape(m.as_str()))
                .unwrap_or_default();
            (c[1].to_ascii_lowercase(), v)
        })
        .collect()
}

fn attribute(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// One `<form>`: where it sends its fields, how, and the inputs it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The `action` attribute as written (`None` when absent: the form posts to its page).
    pub action: Option<String>,
    /// The `method` attribute, lower-cased (`get` when absent, as browsers default).
    pub method: String,
    pub inputs: Vec<Input>,
}

impl Form {
    /// Whether the browser sends the form as a POST.
    pub fn posts(&self) -> bool {
        self.method == "post"
    }

    /// Where the form is sent, resolved against the page's URL (the page itself when the
    /// action is absent or empty), without its fragment.
    pub fn target(&self, page: &url::Url) -> Option<url::Url> {
        let action = self.action.as_deref().map(str::trim).unwrap_or("");
        let mut url = if action.is_empty() {
            page.clone()
        } else {
            page.join(action).ok()?
        };
        url.set_fragment(None);
        Some(url)
    }

    /// How many of its inputs are password inputs.
    pub fn password_inputs(&self) -> usize {
        self.inputs.iter().filter(|i| i.kind == "password").count()
    }

    /// Its hidden inputs (name, value), in order.
    pub fn hidden(&self) -> Vec<(String, String)> {
        self.inputs
            .iter()
            .filter(|i| i.kind == "hidden")
            .map(|i| (i.name.clone(), i.value.clone()))
            .collect()
    }

    /// The inputs a person types into (text, e-mail and the like; not hidden, password,
    /// buttons or boxes).
    pub fn typed(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|i| {
            !matches!(
                i.kind.as_str(),
                "hidden" | "password" | "submit" | "button" | "checkbox" | "radio" | "image" | "reset" | "file"
            )
        })
    }
}

/// Every `<form>` of a page, in order (an unclosed form runs to the end of the page).
pub fn forms(html: &str) -> Vec<Form> {
    FORM.captures_iter(html)
        .map(|c| {
            let attrs = attributes(&c[1]);
            Form {
                action: attribute(&attrs, "action"),
                method: attribute(&attrs, "method")
                    .map(|m| m.trim().to_ascii_lowercase())
                    .unwrap_or_else(|| "get".into()),
                inputs: inputs(&c[2]),
            }
        })
        .collect()
}

/// One `<a href>`: its target as written and its text (tags stripped, whitespace folded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub text: String,
}

/// Every `<a href>` of a page, in order.
pub fn links(html: &str) -> Vec<Link> {
    ANCHOR
        .captures_iter(html)
        .filter_map(|c| {
            let href = attribute(&attributes(&c[1]), "href")?;
            let text = html_unescape(&TAG.replace_all(&c[2], " "));
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            Some(Link { href, text })
        })
        .collect()
}

/// The `src` of every `<script>` a page loads, as written, in order.
pub fn script_sources(html: &str) -> Vec<String> {
    SCRIPT
        .captures_iter(html)
        .filter_map(|c| attribute(&attributes(&c[1]), "src"))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// The code of a page's inline `<script>`s (not JSON or template blocks).
pub fn inline_scripts(html: &str) -> Vec<String> {
    SCRIPT
        .captures_iter(html)
        .filter(|c| {
            let attrs = attributes(&c[1]);
            let kind = attribute(&attrs, "type").unwrap_or_default().to_ascii_lowercase();
            attribute(&attrs, "src").is_none()
                && (kind.is_empty() || kind.contains("javascript") || kind == "module" || kind.contains("json"))
        })
        .map(|c| c[2].to_string())
        .filter(|code| !code.trim().is_empty())
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

/// A page's text: tags dropped (scripts and styles with their content), entities undone.
pub fn text(html: &str) -> String {
    static HIDDEN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)<(script|style)\b.*?</(script|style)\s*>").expect("valid regex"));
    let shown = HIDDEN.replace_all(html, " ");
    html_unescape(&TAG.replace_all(&shown, " "))
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

    #[test]
    fn forms_keep_their_own_inputs_action_and_method() {
        let html = r#"<form class="button_to" method="post" action="/users/sign_out"><input type="hidden" name="_method" value="delete" autocomplete="off" /><button type="submit">Sign out</button><input type="hidden" name="authenticity_token" value="a&amp;b" autocomplete="off" /></form>
            <form action=/search><input name=q></form><FORM METHOD=POST><input type=password name=p>"#;
        let all = forms(html);
        assert_eq!(all.len(), 3);
        assert!(all[0].posts());
        assert_eq!(all[0].action.as_deref(), Some("/users/sign_out"));
        assert_eq!(
            all[0].hidden(),
            vec![
                ("_method".into(), "delete".into()),
                ("authenticity_token".into(), "a&b".into())
            ]
        );
        assert_eq!((all[1].method.as_str(), all[1].typed().count()), ("get", 1));
        let page = url::Url::parse("http://t/a/b?x=1#f").unwrap();
        assert_eq!(all[2].target(&page).unwrap().as_str(), "http://t/a/b?x=1");
        assert_eq!(all[2].password_inputs(), 1);
        assert_eq!(all[1].target(&page).unwrap().as_str(), "http://t/search");
    }

    #[test]
    fn links_and_scripts_are_read_with_their_text_and_sources() {
        let html = r#"<a class="x" href="/users/password/new">Forgot your <b>password</b>?</a>
            <script type="module" crossorigin src="/assets/index-3f2a1c.js"></script>
            <script>window.cfg = {clientId: "abc"}</script><script type="text/template"><p></p></script>"#;
        assert_eq!(
            links(html),
            vec![Link {
                href: "/users/password/new".into(),
                text: "Forgot your password ?".into()
            }]
        );
        assert_eq!(script_sources(html), vec!["/assets/index-3f2a1c.js".to_string()]);
        assert_eq!(
            inline_scripts(html),
            vec![r#"window.cfg = {clientId: "abc"}"#.to_string()]
        );
    }
}
