use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, Family, Finding, ProbeRequest, ProbeResponse, Requirement, ScanContext,
    Severity,
};

use crate::ratelimit::{limit_signal, login_targets, scanner_name, Attempt, Surface, Via};
use crate::support::owasp;
use authprobe_core::auth::extract::from_body;
use authprobe_core::auth::vocab::email_in_record;

crate::declare_check! {
    /// ## What it does
    /// On every endpoint that takes credentials (JSON token endpoints, DRF authtoken,
    /// Django login forms) it compares the answer to a login with an unknown, scanner-made
    /// username (`authprobe-enum-…`) with the answer to a wrong password for a real account
    /// of the scan (`--user`). On a JSON password-reset endpoint it compares an unknown
    /// address with the scan's own address (read from the identity endpoint). The
    /// usernames and addresses are normalised out of the bodies, and so are random values
    /// (CSRF tokens, nonces). A failed login is any answer that carries no credential,
    /// whatever its status: `200 {"success": false, "message": …}` is compared like a 401.
    /// A difference in status or body is reported only when it is
    /// stable: a second unknown name gets the first one's answer, and a second wrong
    /// password (the second `--user`, when given) gets the first one's. Each real account
    /// gets at most two wrong passwords per endpoint, and the check runs before the
    /// rate-limit bursts, so it never trips a per-account limit.
    ///
    /// ## Why is this bad?
    /// An endpoint that says "no such user" for one name and "wrong password" for another
    /// tells an attacker which accounts exist. With a list of valid usernames or e-mail
    /// addresses, password spraying and credential stuffing need far fewer guesses and stay
    /// under per-account limits, phishing can be targeted, and the mere fact that an
    /// address has an account may be sensitive.
    ///
    /// ## Example
    /// ```python
    /// class HelpfulTokenObtainPairSerializer(TokenObtainPairSerializer):
    ///     def validate(self, attrs):
    ///         if not User.objects.filter(username=attrs["username"]).exists():
    ///             raise AuthenticationFailed("No account found with this username.")
    ///         try:
    ///             return super().validate(attrs)
    ///         except AuthenticationFailed:
    ///             raise AuthenticationFailed("Incorrect password.")
    ///
    /// class PasswordResetView(APIView):
    ///     def post(self, request):
    ///         user = User.objects.filter(email=request.data["email"]).first()
    ///         if user is None:
    ///             return Response({"detail": "No account with this email."}, status=404)
    /// ```
    ///
    /// ## Remediation
    /// Give one answer for every failed login, whatever the reason (simplejwt's stock
    /// serializer already does: 401 `No active account found with the given credentials`),
    /// and answer every reset request the same way, sending mail only when the account
    /// exists:
    /// ```python
    /// class PasswordResetView(APIView):
    ///     def post(self, request):
    ///         form = PasswordResetForm(data=request.data)
    ///         if form.is_valid():
    ///             form.save(request=request)          # mails only existing active users
    ///         return Response({"detail": "If an account with this email exists, a reset link has been sent."})
    /// ```
    /// Keep timing uniform too: Django's `ModelBackend` already hashes a dummy password
    /// for unknown users; custom backends should do the same.
    ///
    /// ## References
    /// - CWE-204: Observable Response Discrepancy
    /// - OWASP API2:2023 Broken Authentication
    /// - OWASP Authentication Cheat Sheet (authentication and error messages) — https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#authentication-and-error-messages
    /// - OWASP WSTG-IDNT-04: Testing for Account Enumeration — https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/03-Identity_Management_Testing/04-Testing_for_Account_Enumeration_and_Guessable_User_Account
    pub struct UserEnumeration;
    meta = CheckMeta {
        code: "AUTH005",
        slug: "user-enumeration",
        title: "Login or password reset reveals which accounts exist",
        severity: Severity::Medium,
        cwe: &[204],
        owasp: &[owasp::API2],
        requires: Requirement::LoginFlow,
        family: Family::Authentication,
    };
    sends_post = true;
}

impl UserEnumeration {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let real: Vec<String> = cx.credentials.iter().take(2).map(|c| c.username.clone()).collect();
        if real.is_empty() {
            return CheckOutcome::skipped(Requirement::LoginFlow.missing_reason());
        }
        let mut probes: Vec<(Via, Vec<String>)> =
            login_targets(cx).into_iter().map(|via| (via, real.clone())).collect();
        if !cx.flows.password_reset.is_empty() {
            let emails = account_emails(cx).await;
            if !emails.is_empty() {
                probes.extend(
                    cx.flows
                        .password_reset
                        .iter()
                        .map(|f| (Via::Reset(f.clone()), emails.clone())),
                );
            }
        }
        if probes.is_empty() {
            return CheckOutcome::skipped("no login or password-reset endpoint was found");
        }
        let mut findings = Vec::new();
        let mut inconclusive = Vec::new();
        for (via, known) in &probes {
            match compare(cx, via, known).await {
                Ok(Some(f)) => findings.push(f),
                Ok(None) => {}
                Err(why) => inconclusive.push(format!("{}: {why}", via.url().path())),
            }
        }
        if findings.is_empty() && inconclusive.len() == probes.len() {
            return CheckOutcome::skipped(format!("inconclusive on every endpoint ({})", inconclusive.join("; ")));
        }
        findings.into()
    }
}

/// The e-mail addresses of the scan's first two accounts, from the identity endpoint. Two
/// addresses, not one asked twice: password brokers throttle repeated resets of one
/// account (Laravel's answers "Please wait before retrying" for a minute), which would
/// make the known account's answers differ on their own.
pub(crate) async fn account_emails(cx: &ScanContext) -> Vec<String> {
    let Some(url) = cx.identity_endpoint.as_ref() else {
        return Vec::new();
    };
    let primary = match cx.inventory.get(url).and_then(|e| e.authenticated.clone()) {
        Some(r) => Some(r),
        None => cx.baseline(url).await.ok().map(|b| b.valid),
    };
    let second = match cx.identities.get(1) {
        Some(id) => cx.probe.send(id.authorize(ProbeRequest::get(url.clone()))).await.ok(),
        None => None,
    };
    let email_in = |resp: &ProbeResponse| {
        email_in_record(&resp.json()?)
            .filter(|e| e.contains('@') && !e.starts_with('@'))
            .map(str::to_string)
    };
    let mut emails: Vec<String> = [primary, second].iter().flatten().filter_map(email_in).collect();
    emails.dedup();
    emails
}

/// An unknown subject shaped like the known one (same mail domain for addresses, so a
/// domain check cannot tell them apart).
fn unknown_like(known: &str) -> String {
    match known.split_once('@') {
        Some((_, domain)) => format!("{}@{domain}", scanner_name("enum")),
        None => scanner_name("enum"),
    }
}

/// Unknown vs known, twice each when they differ: `Ok(Some)` for a stable difference.
async fn compare(cx: &ScanContext, via: &Via, known: &[String]) -> Result<Option<Finding>, String> {
    let attempt = Attempt::prepare(cx, via).await?;
    let (url, surface) = (via.url(), via.surface());
    let wrong = scanner_name("wrong");
    let unknown = [unknown_like(&known[0]), unknown_like(&known[0])];
    let second_known = known.get(1).unwrap_or(&known[0]);
    let mut subjects: Vec<&str> = known.iter().map(String::as_str).collect();
    subjects.extend(unknown.iter().map(String::as_str));
    let send = |subject: String| {
        let attempt = &attempt;
        let wrong = &wrong;
        async move {
            let resp = attempt
                .send(cx, &subject, wrong, None)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(signal) = limit_signal(&resp, None) {
                return Err(format!(
                    "a limit answered ({signal}), so the answers cannot be compared"
                ));
            }
            // A failed login is an answer without a credential, whatever its status: many
            // APIs answer `200 {"success": false, "message": …}`. Only an answer that
            // issues a credential (a token in the body, a new session cookie) is not one.
            if resp.status >= 500 || surface != Surface::PasswordReset && issues_credential(cx, &resp) {
                return Err(format!("an attempt got HTTP {} with a credential", resp.status));
            }
            Ok::<ProbeResponse, String>(resp)
        }
    };
    let u1 = send(unknown[0].clone()).await?;
    let k1 = send(known[0].clone()).await?;
    if same(&u1, &k1, &subjects) {
        return Ok(None);
    }
    let u2 = send(unknown[1].clone()).await?;
    if !same(&u1, &u2, &subjects) {
        return Err("two unknown names got different answers, so the answers vary on their own".into());
    }
    let k2 = send(second_known.clone()).await?;
    if !same(&k1, &k2, &subjects) || same(&u2, &k2, &subjects) {
        return Err("the answers for known accounts vary on their own".into());
    }
    let (unknown_what, known_what) = match surface {
        Surface::PasswordReset => ("an unknown e-mail address", "the scan's own address"),
        _ => ("an unknown username", "a wrong password for an existing account"),
    };
    let difference = describe(&u1, &k1, &subjects);
    let message = format!(
        "{} answers {unknown_what} differently from {known_what} ({difference}), so anyone can test which accounts exist.",
        url.path()
    );
    Ok(Some(
        Finding::new(Confidence::Confirmed, url.path(), message).with_evidence([
            u1.exchange,
            k1.exchange,
            u2.exchange,
            k2.exchange,
        ]),
    ))
}

/// Whether a successful login answer hands over a credential: a token in its JSON body,
/// or a new session cookie on a JSON answer (an HTML page re-rendered with an error is a
/// refusal, as before, whatever cookies it sets).
fn issues_credential(cx: &ScanContext, resp: &ProbeResponse) -> bool {
    if !resp.is_success() || resp.is_html() {
        return false;
    }
    let in_body = resp.json().is_some_and(|json| {
        let found = from_body(&json);
        found.access_jwt.is_some() || found.opaque.is_some()
    });
    in_body || cx.auth().new_session(resp).is_some()
}

/// Same status and the same body once subjects and random values are taken out.
fn same(a: &ProbeResponse, b: &ProbeResponse, subjects: &[&str]) -> bool {
    a.status == b.status && normalized(&a.text(), subjects) == normalized(&b.text(), subjects)
}

/// How two answers differ, for the message (JSON bodies quoted, shortened, subjects masked).
fn describe(unknown: &ProbeResponse, known: &ProbeResponse, subjects: &[&str]) -> String {
    if unknown.status != known.status {
        return format!("HTTP {} vs HTTP {}", unknown.status, known.status);
    }
    if unknown.is_html() || known.is_html() {
        return format!("both HTTP {}, but the pages differ", unknown.status);
    }
    let quote = |r: &ProbeResponse| {
        let mut text = r.text();
        for s in subjects {
            text = text.replace(s, "…");
        }
        let short: String = text.chars().take(100).collect();
        if short.len() < text.len() {
            format!("`{short}…`")
        } else {
            format!("`{short}`")
        }
    };
    format!(
        "both HTTP {}, but {} vs {}",
        unknown.status,
        quote(unknown),
        quote(known)
    )
}

/// The words of a body, lower-cased, with the subjects (usernames, addresses) replaced by
/// a placeholder and random-looking values (CSRF tokens, nonces, timestamps) dropped.
pub(crate) fn normalized(body: &str, subjects: &[&str]) -> Vec<String> {
    let mut text = body.to_lowercase();
    let mut subjects: Vec<String> = subjects
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.to_lowercase())
        .collect();
    // Longest first, so an address is replaced before the name inside it.
    subjects.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in &subjects {
        text = text.replace(s.as_str(), " authprobe_subject ");
    }
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|t| !t.is_empty() && !looks_random(t))
        .map(str::to_string)
        .collect()
}

fn looks_random(token: &str) -> bool {
    let digits = token.chars().filter(char::is_ascii_digit).count();
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    (token.len() >= 12 && digits > 0 && letters > 0) || (digits == token.len() && token.len() >= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBJECTS: &[&str] = &["alice", "bob", "authprobe-enum-1a2b3c4d"];

    #[test]
    fn usernames_are_normalised_out_of_bodies() {
        let unknown = r#"{"detail":"No active account found for authprobe-enum-1a2b3c4d"}"#;
        let known = r#"{"detail":"No active account found for alice"}"#;
        assert_eq!(normalized(unknown, SUBJECTS), normalized(known, SUBJECTS));
    }

    #[test]
    fn csrf_tokens_and_timestamps_do_not_count() {
        let a = r#"<input name="csrfmiddlewaretoken" value="aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY"><p>Wrong</p> 1712345678"#;
        let b = r#"<input name="csrfmiddlewaretoken" value="Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"><p>Wrong</p> 1712345999"#;
        assert_eq!(normalized(a, SUBJECTS), normalized(b, SUBJECTS));
    }

    #[test]
    fn different_messages_stay_different() {
        let unknown = r#"{"detail":"No account found with this username."}"#;
        let known = r#"{"detail":"Incorrect password."}"#;
        assert_ne!(normalized(unknown, SUBJECTS), normalized(known, SUBJECTS));
    }

    #[test]
    fn an_address_is_replaced_before_the_name_inside_it() {
        let subjects = ["alice", "alice@example.com", "authprobe-enum-1a2b3c4d@example.com"];
        assert_eq!(
            normalized("sent to alice@example.com", &subjects),
            normalized("sent to authprobe-enum-1a2b3c4d@example.com", &subjects)
        );
    }

    #[test]
    fn unknown_addresses_share_the_known_domain() {
        let u = unknown_like("alice@example.com");
        assert!(u.starts_with("authprobe-enum-") && u.ends_with("@example.com"), "{u}");
        assert!(!unknown_like("alice").contains('@'));
    }
}
