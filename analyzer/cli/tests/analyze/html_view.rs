//! The HTML report of the primary's sample log opened by a real headless
//! Chromium with a view in its fragment: the page's script sorts and
//! filters the tables as asked, under a policy that allows only it, and
//! nothing is fetched. Expected rows come from the JSON report.

use super::html::{dump_dom, render};
use super::*;

struct Load {
    dom: String,
    console: Vec<String>,
    /// URLs the page asked for (the browser's own requests left out).
    page_requests: Vec<String>,
}

/// `page#fragment` after the script ran.
fn open(page: &Path, fragment: &str) -> Load {
    let dir = tempfile::tempdir().unwrap();
    let netlog = dir.path().join("net.json");
    let (dom, console) = dump_dom(
        &format!("file://{}#{fragment}", page.display()),
        &[
            "--virtual-time-budget=5000",
            &format!("--log-net-log={}", netlog.display()),
        ],
    );
    Load {
        dom,
        console,
        page_requests: page_requests(&netlog),
    }
}

/// The requests of the net log that a page started: the browser's own
/// (update checks and the like) have no initiator (`not an origin`).
fn page_requests(netlog: &Path) -> Vec<String> {
    let log: Value = serde_json::from_slice(&std::fs::read(netlog).expect("a net log")).unwrap();
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == start)
        .filter(|e| e["params"]["initiator"] != "not an origin")
        // The job's end is logged under the same type, with no URL.
        .filter_map(|e| Some(e["params"]["url"].as_str()?.to_string()))
        .collect()
}

/// A body row of a table: its cells' text, and whether it is hidden.
struct Row {
    cells: Vec<String>,
    hidden: bool,
}

/// Text of markup, entities decoded.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The body rows of the table `data-table="name"`, in DOM order.
fn rows(dom: &str, name: &str) -> Vec<Row> {
    let at = dom
        .find(&format!("data-table=\"{name}\""))
        .unwrap_or_else(|| panic!("no table {name}"));
    let table = &dom[at..at + dom[at..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody").expect("a tbody")..];
    body.split("<tr")
        .skip(1)
        .map(|tr| {
            let open_tag = &tr[..tr.find('>').unwrap()];
            Row {
                hidden: open_tag.contains("hidden"),
                cells: tr
                    .split("<td")
                    .skip(1)
                    .map(|td| text(&td[td.find('>').unwrap() + 1..]))
                    .collect(),
            }
        })
        .collect()
}

fn numbers(rows: &[Row], col: usize) -> Vec<f64> {
    rows.iter()
        .map(|r| r.cells[col].trim().parse::<f64>().unwrap())
        .collect()
}

fn sorted_desc(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] >= w[1])
}

fn ran_cleanly(l: &Load) {
    assert!(
        l.dom.contains("data-interactive=\"on\""),
        "the script did not run: {:?}",
        l.console
    );
    // A script the policy refuses, or one that throws, logs to the console.
    assert!(l.console.is_empty(), "{:?}", l.console);
    assert!(l.page_requests.is_empty(), "{:?}", l.page_requests);
    assert_eq!(l.dom.matches("<script").count(), 1);
    assert!(!l.dom.contains("<img"));
}

/// The top 20 queries by total time, as the JSON report has them.
fn top_by_total(doc: &Value) -> Vec<Value> {
    let mut q: Vec<Value> = doc["queries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["calls"].as_u64() > Some(0))
        .cloned()
        .collect();
    q.sort_by(|a, b| {
        b["total_ms"]
            .as_f64()
            .unwrap()
            .total_cmp(&a["total_ms"].as_f64().unwrap())
            .then(a["fingerprint"].as_str().cmp(&b["fingerprint"].as_str()))
    });
    q.truncate(20);
    q
}

#[test]
fn a_fragment_sorts_and_filters_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (page, _) = render(dir.path());
    let doc = analyze_path(&sample("primary/postgresql.csv"), &[]);
    let top = top_by_total(&doc);
    // Without a view the table is ranked by total time (column 0), and the
    // calls column (1) is in another order: sorting has something to do.
    let plain = open(&page, "");
    ran_cleanly(&plain);
    let before = rows(&plain.dom, "top-total");
    assert_eq!(before.len(), top.len());
    assert!(sorted_desc(&numbers(&before, 0)));
    assert!(!sorted_desc(&numbers(&before, 1)), "calls already in order");
    assert!(before.iter().all(|r| !r.hidden));

    let needle = "pgbench_accounts";
    let view = open(&page, &format!("filter={needle}&sort=calls-desc"));
    ran_cleanly(&view);
    let after = rows(&view.dom, "top-total");
    let calls = numbers(&after, 1);
    assert!(sorted_desc(&calls), "{calls:?}");
    let mut was = numbers(&before, 1);
    let mut now = calls.clone();
    was.sort_by(f64::total_cmp);
    now.sort_by(f64::total_cmp);
    assert_eq!(was, now, "sorting changed the rows");
    // Shown: exactly the rows whose text holds the filter.
    let expected = top
        .iter()
        .filter(|q| {
            q["normalized"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains(needle)
        })
        .count();
    let shown: Vec<&Row> = after.iter().filter(|r| !r.hidden).collect();
    assert!(expected > 0 && expected < top.len());
    assert_eq!(shown.len(), expected);
    for r in &after {
        assert_eq!(r.cells.join(" ").to_lowercase().contains(needle), !r.hidden);
    }
    // The error table is filtered too (none of its rows names the table).
    let errors = rows(&view.dom, "errors");
    assert!(!errors.is_empty());
    for r in &errors {
        assert_eq!(r.cells.join(" ").to_lowercase().contains(needle), !r.hidden);
    }
}

#[test]
fn a_sort_can_name_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let (page, _) = render(dir.path());
    let view = open(&page, "sort=errors.count-asc");
    ran_cleanly(&view);
    let errors = rows(&view.dom, "errors");
    let mut counts = numbers(&errors, 0);
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    counts.reverse();
    assert!(counts.first() > counts.last(), "all errors as frequent");
    // The other tables keep their order.
    assert!(sorted_desc(&numbers(&rows(&view.dom, "top-total"), 0)));
    assert!(sorted_desc(&numbers(&rows(&view.dom, "top-calls"), 1)));
    assert!(view
        .dom
        .contains("data-key=\"count\" tabindex=\"0\" aria-sort=\"ascending\""));
}

#[test]
fn a_link_to_a_query_opens_its_details() {
    let dir = tempfile::tempdir().unwrap();
    let (page, html) = render(dir.path());
    let doc = analyze_path(&sample("primary/postgresql.csv"), &[]);
    let fp = doc["queries"][3]["fingerprint"].as_str().unwrap();
    let closed = format!("<details class=\"filterable\" id=\"q-{fp}\">");
    assert!(html.contains(&closed), "closed without the script");
    let view = open(&page, &format!("q-{fp}"));
    ran_cleanly(&view);
    assert!(view.dom.contains(&format!(
        "<details class=\"filterable\" id=\"q-{fp}\" open=\"\">"
    )));
}

#[test]
fn hostile_text_in_the_filter_and_the_log_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    let (page, html) = render(dir.path());
    assert_eq!(html.matches("<script").count(), 1);
    // The table the workload named `<script>alert(2)</script>`, as a filter.
    let needle = "<script>alert(2)</script>";
    let view = open(&page, "filter=%3Cscript%3Ealert(2)%3C%2Fscript%3E");
    ran_cleanly(&view);
    let errors = rows(&view.dom, "errors");
    assert!(
        errors.iter().any(|r| !r.hidden),
        "the hostile error is hidden"
    );
    for r in &errors {
        assert_eq!(r.cells.join(" ").contains(needle), !r.hidden);
    }
    // The application named `<img src=x onerror=alert(3)>` is text.
    assert!(view.dom.contains("&lt;img src=x onerror=alert(3)&gt;"));
}

#[test]
fn the_page_fetches_nothing_where_a_fetch_would_be_seen() {
    // The net log does show a page's request: a control page that asks for
    // an image (not a report; it checks the check).
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><img src=\"http://127.0.0.1:9/x.png\">",
    )
    .unwrap();
    let l = open(&control, "");
    assert_eq!(l.page_requests, ["http://127.0.0.1:9/x.png"]);
    let (page, _) = render(dir.path());
    ran_cleanly(&open(&page, "filter=select&sort=p95_ms-desc"));
}

#[test]
fn without_the_script_every_row_is_shown() {
    // Headless Chromium cannot dump the DOM with scripts off; without the
    // script the page is its markup, which shows every row and detail.
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = render(dir.path());
    let top = rows(&html, "top-total");
    assert_eq!(top.len(), 20);
    assert!(top.iter().all(|r| !r.hidden));
    assert!(sorted_desc(&numbers(&top, 0)), "not in the page's ranking");
    assert!(!html.contains(" hidden") && !html.contains("<input"));
    assert_eq!(html.matches("<details class=\"filterable\"").count(), 20);
}
