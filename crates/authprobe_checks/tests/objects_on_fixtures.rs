//! BOLA001 × fixtures: a scripted API that paginates its listings and keeps a team
//! directory, flawed and hardened. Alice's own note is only on page 2 of her listing
//! (page 1 holds the team's shared notes, which both identities see), so only a scan that
//! follows the listing's `next` link finds an object of hers to replay as bob; the
//! directory serves bob's password hash to alice when it is flawed.

use std::sync::Arc;

use authprobe_core::auth::identity::{Identity, Presentation};
use authprobe_core::auth::{FlowSpecs, Flows};
use authprobe_core::config::{ScanConfig, Target};
use authprobe_core::discovery::{Endpoint, EndpointKind, Inventory};
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ProbeSettings, ScriptedAnswer, Transport};
use authprobe_core::redact::Redactor;
use authprobe_core::{CheckOutcome, Probe, ProbeRequest, ScanContext};
use serde_json::json;
use url::Url;

const BASE: &str = "http://127.0.0.1:9/";
const HASH: &str = "pbkdf2_sha256$870000$c2FsdHNhbHQ$bm90IGEgcmVhbCBoYXNoIGJ1dCBsb25nIGVub3VnaA";

fn url(path: &str) -> Url {
    Url::parse(BASE).unwrap().join(path).unwrap()
}

/// Which parts of the API are flawed.
#[derive(Clone, Copy)]
struct Flaws {
    /// Note details are served to any signed-in user.
    notes: bool,
    /// The directory lists every account with its password hash.
    directory: bool,
}

/// Notes: (id, owner); "team" notes are everyone's.
const NOTES: &[(u32, &str)] = &[(1, "team"), (2, "team"), (7, "alice"), (8, "bob")];

fn answer(flaws: Flaws, req: &RecordedRequest) -> ScriptedAnswer {
    let caller = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .and_then(|(_, v)| v.strip_prefix("Bearer tok-"))
        .filter(|u| matches!(*u, "alice" | "bob"))
        .map(str::to_string);
    let Some(caller) = caller else {
        return ScriptedAnswer::json(401, json!({"detail": "Authentication credentials were not provided."}));
    };
    let visible: Vec<u32> = NOTES
        .iter()
        .filter(|(_, owner)| *owner == "team" || *owner == caller)
        .map(|(id, _)| *id)
        .collect();
    let Ok(req_url) = Url::parse(&req.url) else {
        return ScriptedAnswer::json(400, json!({"detail": "Bad request."}));
    };
    let note = |id: u32| json!({"id": id, "title": format!("note {id}"), "body": format!("the text of note {id}, long enough to compare")});
    match req_url.path() {
        "/api/notes" => {
            let page: usize = req_url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            let items: Vec<_> = visible
                .iter()
                .skip((page - 1) * 2)
                .take(2)
                .map(|id| note(*id))
                .collect();
            let next = (page * 2 < visible.len()).then(|| format!("{BASE}api/notes?page={}", page + 1));
            ScriptedAnswer::json(200, json!({"count": visible.len(), "next": next, "results": items}))
        }
        path if path.starts_with("/api/notes/") => {
            let id: u32 = path["/api/notes/".len()..].parse().unwrap_or(0);
            let exists = NOTES.iter().any(|(n, _)| *n == id);
            if exists && (flaws.notes || visible.contains(&id)) {
                ScriptedAnswer::json(200, note(id))
            } else {
                ScriptedAnswer::json(404, json!({"detail": "Not found."}))
            }
        }
        "/api/people" => {
            let entries: Vec<_> = ["alice", "bob"]
                .iter()
                .map(|u| {
                    if flaws.directory {
                        json!({"username": u, "email": format!("{u}@example.com"), "password": HASH})
                    } else {
                        json!({"username": u})
                    }
                })
                .collect();
            ScriptedAnswer::json(200, json!({"results": entries}))
        }
        _ => ScriptedAnswer::json(404, json!({"detail": "Not found."})),
    }
}

fn identity(name: &str) -> Identity {
    let mut id = Identity::from_token(name, &format!("tok-{name}"), Presentation::bearer());
    id.username = Some(name.to_string());
    id.marker = Some(name.to_string());
    id
}

/// A scan context on the fixture: alice and bob, the listing and the directory in the
/// inventory with alice's and the anonymous answers, as discovery leaves them.
async fn context(flaws: Flaws) -> ScanContext {
    let transport: Arc<dyn Transport> = Arc::new(move |req: &RecordedRequest| answer(flaws, req));
    let probe = Probe::new(ProbeSettings::default()).unwrap().with_transport(transport);
    let target = Target::parse(BASE).unwrap();
    let (alice, bob) = (identity("alice"), identity("bob"));
    let mut endpoints = Vec::new();
    for path in ["/api/notes", "/api/people"] {
        let anonymous = probe.send(ProbeRequest::get(url(path))).await;
        let authenticated = probe.send(alice.authorize(ProbeRequest::get(url(path)))).await.ok();
        endpoints.push(Endpoint {
            url: url(path),
            kind: EndpointKind::Api,
            anonymous,
            authenticated,
            declared: false,
            found_by: authprobe_core::discovery::FoundBy::Guess,
        });
    }
    let inventory = Inventory {
        endpoints,
        ..Default::default()
    };
    let specs = FlowSpecs::default();
    let flows = Flows::resolve(&specs, None, None, &target, &inventory, None).unwrap();
    let config = ScanConfig {
        crack_time: std::time::Duration::from_millis(10),
        ..ScanConfig::new(target)
    };
    ScanContext::new(
        probe,
        config,
        inventory,
        vec![alice, bob],
        Arc::new(Redactor::default()),
        None,
        flows,
    )
}

/// BOLA001's findings on the fixture, by endpoint (it must have run, not skipped).
async fn bola001(flaws: Flaws) -> Vec<String> {
    let cx = context(flaws).await;
    let check = authprobe_checks::registry::all()
        .iter()
        .find(|c| c.meta().code == "BOLA001")
        .expect("BOLA001 is registered");
    match check.run(&cx).await {
        CheckOutcome::Ran(findings) => {
            let mut at: Vec<String> = findings.iter().map(|f| f.endpoint.clone()).collect();
            at.sort();
            at
        }
        CheckOutcome::Skipped(why) => panic!("BOLA001 skipped on the fixture: {why}"),
    }
}

#[tokio::test]
async fn an_object_on_page_two_is_replayed_and_anothers_secrets_are_read() {
    let flawed = Flaws {
        notes: true,
        directory: true,
    };
    assert_eq!(bola001(flawed).await, ["/api/notes/7", "/api/people"]);
    let notes_only = Flaws {
        notes: true,
        directory: false,
    };
    assert_eq!(bola001(notes_only).await, ["/api/notes/7"]);
    let directory_only = Flaws {
        notes: false,
        directory: true,
    };
    assert_eq!(bola001(directory_only).await, ["/api/people"]);
}

#[tokio::test]
async fn the_hardened_api_passes_after_a_tested_replay() {
    let hardened = Flaws {
        notes: false,
        directory: false,
    };
    assert!(bola001(hardened).await.is_empty());
}
