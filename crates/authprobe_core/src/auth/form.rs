//! Reading an HTML login form: its hidden fields (Django's `csrfmiddlewaretoken`, Rails'
//! `authenticity_token`, csurf's `_csrf`, a `next`), and the names of its account and
//! password inputs, so a form login of any stack is filled in as a browser would fill it.

use super::vocab::USERNAME_FIELDS;
use crate::html::{forms, inputs, Form, Input};

/// What a login form page holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginForm {
    /// Hidden inputs, as the page gave them (name, value).
    pub hidden: Vec<(String, String)>,
    /// The account input's name (`username`, `email`, `login`…).
    pub username_field: Option<String>,
    /// The password input's name.
    pub password_field: Option<String>,
}

/// Reads the login form of a page: hidden fields, the password input, and the account
/// input (one named like an account, else the first text or e-mail input). On a page of
/// several forms only the one asking for a password counts: a sign-out button's
/// `_method` override or a search form's fields are not the login's.
pub fn read(html: &str) -> LoginForm {
    match forms(html).into_iter().find(|f| f.password_inputs() > 0) {
        Some(form) => read_inputs(&form.inputs),
        None => read_inputs(&inputs(html)),
    }
}

/// Reads one form as [`read`] reads a page's login form.
pub fn read_form(form: &Form) -> LoginForm {
    read_inputs(&form.inputs)
}

fn read_inputs(all: &[Input]) -> LoginForm {
    let hidden = all
        .iter()
        .filter(|i| i.kind == "hidden")
        .map(|i| (i.name.clone(), i.value.clone()))
        .collect();
    let password_field = all.iter().find(|i| i.kind == "password").map(|i| i.name.clone());
    let typed = |i: &&Input| matches!(i.kind.as_str(), "text" | "email");
    let username_field = all
        .iter()
        .filter(typed)
        .find(|i| USERNAME_FIELDS.contains(&i.name.to_ascii_lowercase().as_str()))
        .or_else(|| all.iter().find(typed))
        .map(|i| i.name.clone());
    LoginForm {
        hidden,
        username_field,
        password_field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_django_form_gives_its_token_and_fields() {
        let html = r#"<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="abc&amp;1">
            <input type="text" name="username" autofocus required id="id_username">
            <input type="password" name="password" required><input type="hidden" name="next" value="/"></form>"#;
        let form = read(html);
        assert_eq!(
            form.hidden,
            vec![
                ("csrfmiddlewaretoken".into(), "abc&1".into()),
                ("next".into(), "/".into())
            ]
        );
        assert_eq!(form.username_field.as_deref(), Some("username"));
        assert_eq!(form.password_field.as_deref(), Some("password"));
    }

    #[test]
    fn other_stacks_forms_are_read_in_any_attribute_order() {
        let html = "<form method=post action=/session/login><input name='authenticity_token' type='hidden' value='t0k'>\
            <label>Mail <input name=\"user[email]\" type=email></label><input name=\"user[password]\" type=\"password\">\
            <input type=checkbox name=remember><input type=submit name=commit value='Log in'></form>";
        let form = read(html);
        assert_eq!(form.hidden, vec![("authenticity_token".into(), "t0k".into())]);
        assert_eq!(form.username_field.as_deref(), Some("user[email]"));
        assert_eq!(form.password_field.as_deref(), Some("user[password]"));
        // An input without a type is a text input.
        let bare = read("<input name=login><input name=pw type=password>");
        assert_eq!(bare.username_field.as_deref(), Some("login"));
    }
}
