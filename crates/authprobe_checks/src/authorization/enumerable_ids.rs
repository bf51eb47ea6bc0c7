use authprobe_core::discovery::links_in;
use authprobe_core::lists::{carries_integer_id, item_integer_id, listed_items};
use authprobe_core::probe::ProbeRequest;
use authprobe_core::{
    CheckMeta, CheckOutcome, Confidence, ExchangeId, Family, Finding, Requirement, ScanContext, Severity,
};
use url::Url;

use super::objects::is_child;
use crate::support::owasp;

crate::declare_check! {
    /// ## What it does
    /// Looks at the collections the identities can list (`/api/notes/`) for objects whose
    /// URL is keyed by a small integer (`/api/notes/3/`): linked from the listing, or
    /// listed with an integer `id` that the collection is seen to route (`GET
    /// /api/notes/3/` answers with object 3). It lists the collection as each
    /// identity and reports when the ids, taken together, form one dense sequence
    /// (alice owns 1 and 2, bob 3 and 4): every object's URL can then be guessed by
    /// counting. Only GET requests; the finding does not claim that the other objects can
    /// be read — BOLA001 tests that.
    ///
    /// ## Why is this bad?
    /// Sequential ids turn one missing ownership check into a full dump (`for id in
    /// range(1, 100000)`), and even with correct authorization they leak business volume
    /// (how many orders, users, invoices) and make existence probing trivial. Random
    /// public ids are the defence in depth that makes a BOLA bug unexploitable at scale.
    ///
    /// ## Example
    /// ```python
    /// class NoteViewSet(viewsets.ReadOnlyModelViewSet):
    ///     serializer_class = NoteSerializer   # {"id": 3, "url": ".../api/notes/3/"}
    /// ```
    ///
    /// ## Remediation
    /// Route and show objects by a random identifier; keep the integer key internal:
    /// ```python
    /// class Note(models.Model):
    ///     public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ///
    /// class NoteViewSet(viewsets.ReadOnlyModelViewSet):
    ///     lookup_field = "public_id"
    /// ```
    ///
    /// ## References
    /// - CWE-639: Authorization Bypass Through User-Controlled Key
    /// - OWASP API1:2023 Broken Object Level Authorization
    /// - OWASP Insecure Direct Object Reference Prevention Cheat Sheet — https://cheatsheetseries.owasp.org/cheatsheets/Insecure_Direct_Object_Reference_Prevention_Cheat_Sheet.html
    pub struct EnumerableIds;
    meta = CheckMeta {
        code: "BOLA002",
        slug: "enumerable-ids",
        title: "Sequential numeric object ids exposed",
        severity: Severity::Low,
        cwe: &[639],
        owasp: &[owasp::API1],
        requires: Requirement::Identity,
        family: Family::Authorization,
    };
}

/// Collections reported at most.
const MAX_COLLECTIONS: usize = 3;
/// Ids above this are not "counting" ids (timestamps, snowflakes, random 64-bit keys).
const MAX_COUNTING_ID: u64 = 1_000_000_000;

impl EnumerableIds {
    async fn check(&self, cx: &ScanContext) -> CheckOutcome {
        let mut findings = Vec::new();
        let mut listed_any = false;
        for collection in &cx.inventory.endpoints {
            if findings.len() >= MAX_COLLECTIONS {
                break;
            }
            let Some(mine) = collection.authenticated.as_ref().filter(|r| r.is_success()) else {
                continue;
            };
            let links = links_in(mine, &cx.target);
            let linked = links.iter().any(|l| is_child(&collection.url, l));
            // Objects listed with their ids but no URLs count once the collection is seen
            // to route them by that id.
            let routed_by_id = !linked && routes_listed_ids(cx, &collection.url, mine).await;
            if !linked && !routed_by_id {
                continue;
            }
            listed_any = true;
            let ids_of = |resp: &authprobe_core::ProbeResponse| {
                if routed_by_id {
                    listed_ids(resp)
                } else {
                    numeric_children(&collection.url, &links_in(resp, &cx.target))
                }
            };
            let my_ids = ids_of(mine);
            if my_ids.is_empty() {
                continue;
            }
            // The same collection as every other identity: their ids join the sequence.
            let mut per_identity: Vec<(String, Vec<u64>, ExchangeId)> =
                vec![(cx.identities[0].label.clone(), my_ids, mine.exchange)];
            for other in cx.identities.iter().skip(1) {
                let req = other.authorize(ProbeRequest::get(collection.url.clone()));
                let Ok(theirs) = cx.probe.send(req).await else { continue };
                if theirs.is_success() {
                    let ids = ids_of(&theirs);
                    if !ids.is_empty() {
                        per_identity.push((other.label.clone(), ids, theirs.exchange));
                    }
                }
            }
            if let Some(finding) = judge_sequence(&collection.url, &per_identity) {
                findings.push(finding);
            }
        }
        if findings.is_empty() && !listed_any {
            return CheckOutcome::skipped("no collection lists objects with their own URLs or routes the ids it lists");
        }
        findings.into()
    }
}

/// The integer `id`s (or `pk`s, in any case) of the objects a JSON listing holds, read by
/// the one list reader every check uses ([`listed_items`]): a top-level array, or the list
/// of objects inside an envelope of any shape (`{"results": [...]}`, `{"orders": [...]}`,
/// `{"Tickets": [...]}`, `{"data": {"receipts": [...]}}`).
fn listed_ids(resp: &authprobe_core::ProbeResponse) -> Vec<u64> {
    let Some(json) = resp.json() else { return Vec::new() };
    let mut ids: Vec<u64> = listed_items(&json).iter().filter_map(item_integer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether `collection` routes the objects it lists by their integer id: the first
/// identity's GET of `collection/<id>` (in the collection's trailing-slash style) answers
/// with a JSON success that carries that id.
async fn routes_listed_ids(cx: &ScanContext, collection: &Url, listing: &authprobe_core::ProbeResponse) -> bool {
    let Some(&id) = listed_ids(listing).first() else {
        return false;
    };
    let Some(identity) = cx.primary() else { return false };
    let slash = if collection.path().ends_with('/') { "/" } else { "" };
    let Ok(url) = collection.join(&format!("{}/{id}{slash}", collection.path().trim_end_matches('/'))) else {
        return false;
    };
    let Ok(resp) = cx.probe.send(identity.authorize(ProbeRequest::get(url))).await else {
        return false;
    };
    resp.is_success() && resp.json().is_some_and(|j| carries_integer_id(&j, id))
}

/// The integer keys of the links directly under `collection`.
fn numeric_children(collection: &Url, links: &[Url]) -> Vec<u64> {
    let mut ids: Vec<u64> = links
        .iter()
        .filter(|l| is_child(collection, l))
        .filter_map(|l| l.path().trim_end_matches('/').rsplit('/').next()?.parse::<u64>().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A finding when the ids every identity sees form one dense counting sequence: at least
/// two ids, all below [`MAX_COUNTING_ID`], spanning at most four times their number.
/// Confirmed when two identities' objects interleave in it (the sequence is shared, so
/// each identity's neighbours are someone else's objects); firm on one identity's ids.
fn judge_sequence(collection: &Url, per_identity: &[(String, Vec<u64>, ExchangeId)]) -> Option<Finding> {
    let mut all: Vec<u64> = per_identity
        .iter()
        .flat_map(|(_, ids, _)| ids.iter().copied())
        .collect();
    all.sort_unstable();
    all.dedup();
    let (&min, &max) = (all.first()?, all.last()?);
    let dense = all.len() >= 2 && max < MAX_COUNTING_ID && max - min < 4 * all.len() as u64;
    if !dense {
        return None;
    }
    let owners = per_identity.iter().filter(|(_, ids, _)| !ids.is_empty()).count();
    let confidence = if owners >= 2 {
        Confidence::Confirmed
    } else {
        Confidence::Firm
    };
    let who: Vec<String> = per_identity
        .iter()
        .map(|(label, ids, _)| {
            let list: Vec<String> = ids.iter().take(6).map(u64::to_string).collect();
            format!("`{label}` sees {}", list.join(", "))
        })
        .collect();
    let base = collection.path().trim_end_matches('/');
    let message = format!(
        "{} keys its objects by sequential integers ({}): ids {min}–{max} form one counting sequence, so every object URL can be guessed ({base}/{}/, {base}/{}/, …).",
        collection.path(),
        who.join("; "),
        max + 1,
        max + 2
    );
    Some(
        Finding::new(confidence, collection.path(), message)
            .with_evidence(per_identity.iter().map(|(_, _, x)| *x).collect::<Vec<_>>()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[u64]) -> Vec<u64> {
        list.to_vec()
    }

    fn judge(sets: &[&[u64]]) -> Option<Finding> {
        let url = Url::parse("http://t/api/notes/").unwrap();
        let per: Vec<(String, Vec<u64>, ExchangeId)> = sets
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("user{i}"), ids(s), ExchangeId(i)))
            .collect();
        judge_sequence(&url, &per)
    }

    #[test]
    fn interleaved_small_ids_of_two_identities_are_confirmed() {
        let f = judge(&[&[1, 2], &[3, 4]]).unwrap();
        assert_eq!(f.confidence, Confidence::Confirmed);
        assert!(f.message.contains("/api/notes/5/"), "{}", f.message);
    }

    #[test]
    fn one_identitys_dense_ids_are_firm() {
        assert_eq!(judge(&[&[7, 8, 10]]).unwrap().confidence, Confidence::Firm);
    }

    #[test]
    fn sparse_huge_or_single_ids_are_not_reported() {
        assert!(judge(&[&[5]]).is_none());
        assert!(judge(&[&[3, 900]]).is_none());
        assert!(judge(&[&[1_700_000_000_001, 1_700_000_000_002]]).is_none());
    }

    fn listed(body: &str) -> Vec<u64> {
        listed_ids(&crate::ratelimit::test_response(200, body, false))
    }

    #[test]
    fn ids_are_read_from_listings_of_any_envelope_as_bola001_reads_them() {
        assert_eq!(listed(r#"[{"id": 2}, {"id": 1}]"#), [1, 2]);
        assert_eq!(listed(r#"{"count": 2, "results": [{"pk": 4}, {"pk": 5}]}"#), [4, 5]);
        // The collection's noun (Express, Flask), and a nested envelope.
        assert_eq!(listed(r#"{"orders": [{"id": 41, "total": 9}, {"id": 43}]}"#), [41, 43]);
        assert_eq!(listed(r#"{"status": "ok", "data": {"notes": [{"id": 7}]}}"#), [7]);
        // An entity's own arrays are not a listing; string ids are not counters.
        assert!(listed(r#"{"id": 3, "groups": [{"id": 1}, {"id": 2}]}"#).is_empty());
        assert!(listed(r#"{"orders": [{"id": "ord_1"}]}"#).is_empty());
        assert!(listed("<html></html>").is_empty());
    }

    #[test]
    fn an_enveloped_object_carries_its_id() {
        assert!(carries_integer_id(&serde_json::json!({"id": 3, "title": "x"}), 3));
        assert!(carries_integer_id(&serde_json::json!({"Id": 3, "Title": "x"}), 3));
        assert!(carries_integer_id(
            &serde_json::json!({"status": "ok", "data": {"id": 3}}),
            3
        ));
        assert!(!carries_integer_id(
            &serde_json::json!({"status": "ok", "data": {"id": 4}}),
            3
        ));
        assert!(!carries_integer_id(&serde_json::json!({"a": {"b": {"id": 3}}}), 3));
    }

    #[test]
    fn only_integer_children_of_the_collection_count() {
        let c = Url::parse("http://t/api/notes/").unwrap();
        let links: Vec<Url> = [
            "http://t/api/notes/3/",
            "http://t/api/notes/e2c2a777-77d4-437f-8354-d65acc6e73d7/",
            "http://t/api/notes/3/comments/",
            "http://t/api/posts/4/",
        ]
        .iter()
        .map(|s| Url::parse(s).unwrap())
        .collect();
        assert_eq!(numeric_children(&c, &links), vec![3]);
    }
}
