//! The pages against a real server on a fresh SQLite file: sign-in, the cluster page and its
//! forms, languages, permissions and error pages.

use std::sync::{Arc, Mutex};

use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_domain::cluster::{ClusterInput, ClusterKind, MembershipInput};
use lienhoan_domain::geo::{AdminLevel, NewHistoricalUnit};
use lienhoan_domain::organisation::{OrgKind, OrganisationInput};
use lienhoan_store::{AccountStore, ClusterStore, GeoStore, OrganisationStore, Store};
use lienhoan_store_sql::SqlStore;
use lienhoan_store_sqlite::SqliteEngine;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use time::macros::date;
use uuid::Uuid;

use crate::AppState;

struct World {
    base: String,
    cluster: Uuid,
    joining: Uuid,
    founder: Uuid,
    commune: Uuid,
    store: Arc<dyn Store>,
}

async fn world() -> World {
    let path = std::env::temp_dir().join(format!("lienhoan-pages-{}.db", Uuid::now_v7()));
    let engine = SqliteEngine::open(path.to_str().unwrap()).await.unwrap();
    lienhoan_store_sql::migrate(&engine).await.unwrap();
    let store = SqlStore::new(Box::new(engine));
    let system = Actor::system();
    let province = store
        .add_historical_unit(
            &system,
            &NewHistoricalUnit {
                level: AdminLevel::Province,
                code: "90".into(),
                name: "Vĩnh Phúc".into(),
                kind: "Tỉnh".into(),
                parent_id: None,
                valid_from: None,
                valid_to: date!(2025 - 06 - 30),
                successor_ids: vec![],
                aliases: vec![],
            },
        )
        .await
        .unwrap();
    let commune = store
        .add_historical_unit(
            &system,
            &NewHistoricalUnit {
                level: AdminLevel::Commune,
                code: "9001".into(),
                name: "Quang Yên".into(),
                kind: "Xã".into(),
                parent_id: Some(province.id),
                valid_from: None,
                valid_to: date!(2025 - 06 - 30),
                successor_ids: vec![],
                aliases: vec![],
            },
        )
        .await
        .unwrap();
    let org = |name: &str| OrganisationInput {
        name: name.into(),
        kind: OrgKind::Police,
        admin_unit_id: province.id,
    };
    let founder = store
        .create_organisation(&system, &org("Công an huyện Sông Lô"))
        .await
        .unwrap();
    let joining = store
        .create_organisation(&system, &org("Công ty Bồ Sao"))
        .await
        .unwrap();
    let cluster = store
        .create_cluster(
            &system,
            &ClusterInput {
                name: "Cụm Sông Lô – Sơn Dương".into(),
                kind: ClusterKind::InterProvince,
                founded_on: date!(2018 - 01 - 24),
                description: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .add_member(
            &system,
            cluster.id,
            &MembershipInput {
                organisation_id: founder.id,
                joined_on: date!(2018 - 01 - 24),
                left_on: None,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    for (username, role, org) in [
        ("admin", Role::Admin, None),
        ("coordinator", Role::Coordinator, Some(founder.id)),
        ("officer", Role::Officer, Some(founder.id)),
        ("commander", Role::Commander, Some(founder.id)),
    ] {
        store
            .create_user(
                &system,
                &NewUser {
                    username: username.into(),
                    display_name: format!("Người dùng {username}"),
                    password: "mật khẩu dài".into(),
                    organisation_id: org,
                    role,
                },
                false,
            )
            .await
            .unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(crate::serve(AppState::new(store.clone(), false), listener));
    World {
        base,
        cluster: cluster.id,
        joining: joining.id,
        founder: founder.id,
        commune: commune.id,
        store,
    }
}

/// A client that keeps cookies like a browser and sends our Origin on every request.
struct Browser {
    client: Client,
    origin: String,
    jar: Mutex<Vec<(String, String)>>,
}

fn browser(base: &str) -> Browser {
    Browser {
        client: Client::builder().redirect(Policy::none()).build().unwrap(),
        origin: base.to_owned(),
        jar: Mutex::new(Vec::new()),
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&self, r: &reqwest::Response) {
        let mut jar = self.jar.lock().unwrap();
        for value in r.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, v) = pair.split_once('=').unwrap();
            jar.retain(|(k, _)| k != name);
            if !value.contains("Max-Age=0") {
                jar.push((name.to_owned(), v.to_owned()));
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let r = request
            .header("origin", &self.origin)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        r
    }

    async fn get(&self, url: String) -> reqwest::Response {
        self.send(self.client.get(url)).await
    }

    async fn post(&self, url: String, form: &[(&str, &str)]) -> reqwest::Response {
        self.send(self.client.post(url).form(form)).await
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn sign_in(w: &World, username: &str) -> Browser {
    let client = browser(&w.base);
    let r = client
        .post(
            format!("{}/login", w.base),
            &[
                ("username", username),
                ("password", "mật khẩu dài"),
                ("next", "/clusters"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/clusters");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly; SameSite=Strict; Path=/"),
        "{cookie}"
    );
    client
}

async fn page(client: &Browser, url: String) -> (StatusCode, String) {
    let r = client.get(url).await;
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn signing_in_and_out() {
    let w = world().await;
    let anonymous = browser(&w.base);
    let r = anonymous
        .get(format!("{}/clusters?on=2020-01-01", w.base))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=/clusters%3Fon%3D2020-01-01");

    let (status, html) = page(&anonymous, format!("{}/login", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"vi\">") && html.contains("Đăng nhập"));
    assert!(html.contains("href=\"/lang/en?next="), "a language switch");

    let r = anonymous
        .post(
            format!("{}/login", w.base),
            &[
                ("username", "admin"),
                ("password", "sai"),
                ("next", "//evil"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("Sai tên đăng nhập hoặc mật khẩu"), "{html}");
    assert!(html.contains("value=\"admin\""), "keeps the username");

    let client = sign_in(&w, "admin").await;
    let (status, html) = page(&client, format!("{}/", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Người dùng admin") && html.contains("Cụm Sông Lô – Sơn Dương"));
    assert!(html.contains("href=\"/audit\""), "admins see the audit log");

    let r = client.post(format!("{}/logout", w.base), &[]).await;
    assert_eq!(location(&r), "/login");
    let r = client.get(format!("{}/", w.base)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the session is over");
}

#[tokio::test]
async fn a_coordinator_admits_a_member() {
    let w = world().await;
    let client = sign_in(&w, "coordinator").await;
    let url = format!("{}/clusters/{}", w.base, w.cluster);
    let (status, html) = page(&client, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Công an huyện Sông Lô") && html.contains("đang là thành viên"));
    assert!(
        html.contains("Kết nạp thành viên"),
        "coordinators of a member edit"
    );
    assert!(
        !html.contains("href=\"/audit\""),
        "no audit log for coordinators"
    );

    // A date before the founding is refused next to the field, with the input kept.
    let joining = w.joining.to_string();
    let r = client
        .post(
            format!("{url}/members"),
            &[
                ("organisation_id", joining.as_str()),
                ("joined_on", "01/01/2017"),
                ("note", "ghi chú"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Ngày tham gia không được trước ngày thành lập cụm (24/01/2018)"),
        "{html}"
    );
    assert!(html.contains("value=\"2017-01-01\"") && html.contains("value=\"ghi chú\""));

    // Typed as dd/mm/yyyy, accepted, and back on the page with a notice.
    let r = client
        .post(
            format!("{url}/members"),
            &[
                ("organisation_id", joining.as_str()),
                ("joined_on", "05/03/2019"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = location(&r);
    assert!(back.contains("ok=member-added"), "{back}");
    let (_, html) = page(&client, format!("{}{back}", w.base)).await;
    assert!(html.contains("Đã thêm đơn vị thành viên."));
    assert!(html.contains("Công ty Bồ Sao") && html.contains("từ 05/03/2019"));

    // Members on a day before the new member joined.
    let (_, html) = page(&client, format!("{url}?on=2019-03-04")).await;
    assert!(
        html.contains("1 đơn vị là thành viên vào ngày 04/03/2019"),
        "{html}"
    );

    // The organisation search fragment.
    let (status, html) = page(
        &client,
        format!("{}/fragments/organisation-options?org_q=bo%20sao", w.base),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Công ty Bồ Sao") && !html.contains("Sông Lô"),
        "{html}"
    );

    // The rotation: a gap between turns is reported on the second row.
    let founder_row = html_select_value(&page(&client, format!("{url}/rotation")).await.1);
    let r = client
        .post(
            format!("{url}/rotation"),
            &[
                ("rows", "3"),
                ("turns[0].organisation_id", founder_row.as_str()),
                ("turns[0].starts_on", "2019-06-01"),
                ("turns[0].ends_on", "2019-12-31"),
                ("turns[2].organisation_id", founder_row.as_str()),
                ("turns[2].starts_on", "2020-02-01"),
                ("turns[2].ends_on", "2020-12-31"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Lịch luân phiên bị hở"), "{html}");
}

/// The first organisation offered in the rotation form.
fn html_select_value(html: &str) -> String {
    let start = html.find("<option value=\"").unwrap();
    let rest = &html[start..];
    // Skip the empty placeholder option.
    let next = rest[1..].find("<option value=\"").unwrap() + 1;
    let value = &rest[next + "<option value=\"".len()..];
    value[..value.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn languages_permissions_and_errors() {
    let w = world().await;
    let client = sign_in(&w, "officer").await;
    let r = client
        .get(format!("{}/lang/en?next=/clusters", w.base))
        .await;
    assert_eq!(location(&r), "/clusters");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("lang=en;")
    );
    let (_, html) = page(&client, format!("{}/clusters", w.base)).await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("Members today"));

    let (status, html) = page(&client, format!("{}/clusters/{}", w.base, w.cluster)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("Admit a member"),
        "officers do not edit clusters"
    );

    let (status, html) = page(&client, format!("{}/audit", w.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Your account may not see this page"));

    let (status, html) = page(&client, format!("{}/no/such/page", w.base)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("<html lang=\"en\">") && html.contains("Back to the home page"));

    let r = client.get(format!("{}/api/v1/no-such", w.base)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );

    let admin = sign_in(&w, "admin").await;
    let (status, html) = page(&admin, format!("{}/audit?action=cluster.", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("cluster.create"), "{html}");
    let r = admin.post(format!("{}/audit/verify", w.base), &[]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Chuỗi nhật ký nguyên vẹn"), "{html}");

    let (status, html) = page(&admin, format!("{}/geo?q=vinh%20phuc", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tỉnh Vĩnh Phúc") && html.contains("đơn vị cũ"));
    let (status, _) = page(&admin, format!("{}/organisations?q=bo", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = page(&admin, format!("{}/users", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tạo tài khoản") && html.contains("/disable"));
}

#[test]
fn notices_go_in_the_query() {
    assert_eq!(
        super::with_notice("/clusters/1#members", "member-added"),
        "/clusters/1?ok=member-added#members"
    );
    assert_eq!(
        super::with_notice("/organisations?q=a", "x"),
        "/organisations?q=a&ok=x"
    );
}

#[test]
fn every_text_on_the_pages_is_translated() {
    let vi = include_str!("../../locales/vi/main.ftl");
    let keys: Vec<&str> = vi
        .lines()
        .filter_map(|l| l.split_once(" ="))
        .map(|(k, _)| k.trim())
        .collect();
    let templates = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")).unwrap();
    let mut checked = 0;
    for entry in templates {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for call in ["c.t(\"", "c.t1(\"", "c.t2(\""] {
            for piece in text.split(call).skip(1) {
                let key = &piece[..piece.find('"').unwrap()];
                assert!(keys.contains(&key), "{key} is not in the translations");
                checked += 1;
            }
        }
    }
    assert!(checked > 100);
    for notice in super::NOTICES {
        let key = format!("ok-{notice}");
        assert!(keys.contains(&key.as_str()), "{key}");
    }
}

/// The text of the table row that contains `label`, tags stripped and spaces collapsed.
fn row_text(html: &str, label: &str) -> String {
    let at = html
        .find(label)
        .unwrap_or_else(|| panic!("{label} not on the page"));
    let start = html[..at].rfind("<tr").unwrap();
    let end = at + html[at..].find("</tr>").unwrap();
    let mut text = String::new();
    let mut in_tag = false;
    for ch in html[start..end].chars() {
        match ch {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn incident(
    commune: Uuid,
    day: time::Date,
    category: &str,
    outcome: lienhoan_domain::incident::Outcome,
    people: i64,
) -> lienhoan_domain::incident::IncidentInput {
    let at = lienhoan_domain::format::start_of_day(day) + time::Duration::hours(9);
    lienhoan_domain::incident::IncidentInput {
        commune_id: commune,
        place: String::new(),
        latitude: None,
        longitude: None,
        occurred_at: at,
        reported_at: at + time::Duration::hours(1),
        category: category.into(),
        suspects: 0,
        victims: 0,
        deaths: 0,
        injured: 0,
        damage_vnd: 0,
        narrative: String::new(),
        status: lienhoan_domain::incident::Status::Solved,
        outcome,
        outcome_people: people,
        cross_border: false,
        shared: None,
    }
}

#[tokio::test]
async fn recording_an_incident_and_its_history() {
    let w = world().await;
    let officer = sign_in(&w, "officer").await;
    let (status, html) = page(&officer, format!("{}/incidents", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ghi vụ việc mới") && html.contains("Không có vụ việc nào"));
    assert!(html.contains("hx-trigger=\"live-incident from:body\""));
    assert!(html.contains("data-live=\"/api/v1/events\""));
    assert!(html.contains("href=\"/inbox\"") && html.contains("href=\"/register\""));

    let (status, html) = page(&officer, format!("{}/incidents/new", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Xã Quang Yên") && html.contains("<optgroup label=\"Tội phạm hình sự\">")
    );

    // Refused: the field errors are next to the fields and the input is kept.
    let commune = w.commune.to_string();
    let mut form = vec![
        ("commune_id", commune.as_str()),
        ("occurred_at", ""),
        ("reported_at", "2024-03-15T10:00"),
        ("category", "criminal.theft"),
        ("status", "received"),
        ("outcome", "none"),
        ("suspects", "x"),
        ("place", "Bến đò Quang Yên"),
        ("cross_border", "1"),
        ("shared", "1"),
    ];
    let r = officer
        .post(format!("{}/incidents/new", w.base), &form)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"occurred_at-error\"") && html.contains("id=\"suspects-error\""));
    assert!(html.contains("value=\"Bến đò Quang Yên\""));

    form[1] = ("occurred_at", "2024-03-15T08:30");
    form[6] = ("suspects", "2");
    let r = officer
        .post(format!("{}/incidents/new", w.base), &form)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.ends_with("?ok=incident-created"), "{to}");
    let path = to.split('?').next().unwrap().to_owned();
    let (status, html) = page(&officer, format!("{}{to}", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Đã ghi vụ việc."));
    assert!(html.contains("Giáp ranh") && html.contains("15/03/2024 08:30"));
    assert!(html.contains("Ghi vụ việc") && html.contains("/inbox/new?incident="));
    // An officer may edit but not delete.
    assert!(html.contains("/edit\"") && !html.contains("/delete"));

    form[6] = ("suspects", "3");
    let r = officer.post(format!("{}{path}/edit", w.base), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&officer, format!("{}{path}", w.base)).await;
    assert!(html.contains("<strong>Sửa vụ việc</strong>"));
    assert!(
        html.contains("<td class=\"before\">2</td><td>3</td>"),
        "{html}"
    );

    // The list shows it, with the badge; the live fragment is the list alone.
    let (_, html) = page(&officer, format!("{}/incidents?q=ben+do", w.base)).await;
    assert!(html.contains("1 vụ việc") && html.contains("badge-cross"));
    let (_, html) = page(&officer, format!("{}/incidents?fragment=1", w.base)).await;
    assert!(!html.contains("<html") && html.contains("Trộm cắp tài sản"));

    // A commander deletes, with a reason.
    let commander = sign_in(&w, "commander").await;
    let r = commander
        .post(format!("{}{path}/delete", w.base), &[("reason", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = commander
        .post(
            format!("{}{path}/delete", w.base),
            &[("reason", "Ghi trùng")],
        )
        .await;
    assert_eq!(location(&r), "/incidents?ok=incident-deleted");
}

#[tokio::test]
async fn statistics_of_the_five_year_review() {
    let w = world().await;
    use lienhoan_domain::incident::Outcome;
    let mut inputs = Vec::new();
    let first = date!(2018 - 02 - 01);
    let mut n = 0i64;
    let mut day = || {
        n += 1;
        first + time::Duration::days(n * 3)
    };
    // 99 prosecuted with 153 people, 73 sanctioned with 116, 49 traffic with 3 dead, 73 hurt.
    for i in 0..99 {
        let people = if i < 54 { 2 } else { 1 };
        inputs.push(incident(
            w.commune,
            day(),
            "criminal.theft",
            Outcome::Prosecuted,
            people,
        ));
    }
    for i in 0..73 {
        let people = if i < 43 { 2 } else { 1 };
        inputs.push(incident(
            w.commune,
            day(),
            "administrative.violation",
            Outcome::Sanctioned,
            people,
        ));
    }
    for i in 0..49 {
        let mut input = incident(w.commune, day(), "traffic.accident", Outcome::None, 0);
        input.deaths = i64::from(i < 3);
        input.injured = if i < 24 { 2 } else { 1 };
        inputs.push(input);
    }
    assert!(day() < date!(2020 - 07 - 02));
    let count = w
        .store
        .import_incidents(&Actor::system(), w.founder, &inputs, &|_| {})
        .await
        .unwrap();
    assert_eq!(count, 221);

    let coordinator = sign_in(&w, "coordinator").await;
    let url = format!(
        "{}/statistics?cluster={}&from=03%2F07%2F2015&to=2020-07-02&g1=outcome",
        w.base, w.cluster
    );
    let (status, html) = page(&coordinator, url.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let prosecuted = row_text(&html, "<th scope=\"row\">Truy cứu hình sự");
    assert!(
        prosecuted.starts_with("Truy cứu hình sự 99 153 0 "),
        "{prosecuted}"
    );
    let sanctioned = row_text(&html, "<th scope=\"row\">Xử lý hành chính");
    assert!(
        sanctioned.starts_with("Xử lý hành chính 73 0 116 "),
        "{sanctioned}"
    );
    let none = row_text(&html, "<th scope=\"row\">Không xử lý");
    let numbers: Vec<&str> = none
        .split(' ')
        .filter(|t| t.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .collect();
    // Incidents, prosecuted, sanctioned, deaths, injured.
    assert_eq!(numbers[..5], ["49", "0", "0", "3", "73"], "{none}");
    let total = row_text(&html, "<th scope=\"row\">Tổng cộng");
    assert!(total.starts_with("Tổng cộng 221"), "{total}");
    assert!(html.contains("<svg") && html.contains("Năm công tác"));

    let r = coordinator.get(format!("{url}&format=csv")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.contains("Truy cứu hình sự,99,153,0,0,0,0,0,0"), "{csv}");

    // Compared with the year before: 2019 against 2018, by category group.
    let url = format!(
        "{}/statistics?cluster={}&from=2019-01-01&to=2019-12-31&g1=category_group&compare=1",
        w.base, w.cluster
    );
    let (status, html) = page(&coordinator, url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("so với 01/01/2018 – 31/12/2018"), "{html}");
    let total = row_text(&html, "<th scope=\"row\">Tổng cộng");
    assert!(
        total.contains("cùng kỳ:") && (total.contains("giảm") || total.contains("tăng")),
        "{total}"
    );
}

#[tokio::test]
async fn exchange_register_and_import_pages() {
    let w = world().await;
    let admin = sign_in(&w, "admin").await;
    let (status, html) = page(&admin, format!("{}/register", w.base)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!html.contains("href=\"/register\""));
    let (status, _) = page(&admin, format!("{}/statistics", w.base)).await;
    assert_eq!(status, StatusCode::OK);

    let officer = sign_in(&w, "officer").await;
    let (status, html) = page(&officer, format!("{}/register", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Mọi lượt truy cập đều được ghi nhật ký"));
    let (status, _) = page(&officer, format!("{}/register/movements", w.base)).await;
    assert_eq!(status, StatusCode::OK);

    // A bulletin to the cluster, then the inbox lists it as sent.
    let (status, html) = page(&officer, format!("{}/inbox/new", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Cụm Sông Lô – Sơn Dương"));
    let cluster = w.cluster.to_string();
    let r = officer
        .post(
            format!("{}/inbox/new", w.base),
            &[
                ("kind", "bulletin"),
                ("cluster_id", cluster.as_str()),
                ("title", "Thông báo giao ban quý"),
                ("body", "Họp lúc 8 giờ"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let (_, html) = page(&officer, format!("{}/inbox?box=sent", w.base)).await;
    assert!(html.contains("Thông báo giao ban quý"));
    let r = officer
        .post(
            format!("{}/inbox/new", w.base),
            &[
                ("kind", "request"),
                ("cluster_id", cluster.as_str()),
                ("title", "Đề nghị"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // An import with a bad row writes nothing and lists the problems.
    let (status, html) = page(&officer, format!("{}/incidents/import", w.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/api/v1/incidents/template/xlsx"));
    let r = post_import(&officer, &w.base, "Mã xã,Thời điểm xảy ra\nxx,hôm qua\n").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"import-errors\"") && html.contains("Dòng"),
        "{html}"
    );
    // An empty file is refused with its reason, and so is an administrator's import that
    // names no organisation.
    let r = post_import(&officer, &w.base, "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Tệp không có dữ liệu"));
    let r = post_import(&admin, &w.base, "Mã xã\n").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Hãy chọn đơn vị thụ lý."));
}

/// Posts `csv` as the incident import form's file.
async fn post_import(browser: &Browser, base: &str, csv: &str) -> reqwest::Response {
    let boundary = "lienhoan-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    browser
        .send(
            browser
                .client
                .post(format!("{base}/incidents/import"))
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body),
        )
        .await
}
