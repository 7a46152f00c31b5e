//! End-to-end HTTP tests: the real `lienhoan serve --demo` binary on port 0, on a fresh SQLite
//! file and, when `LIENHOAN_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
    database: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn fresh_database(engine: &str) -> String {
    let name = format!("lh_http_{}", uuid::Uuid::now_v7().simple());
    if engine == "sqlite" {
        return std::env::temp_dir()
            .join(format!("{name}.db"))
            .to_string_lossy()
            .into_owned();
    }
    let base = std::env::var("LIENHOAN_TEST_POSTGRES_URL").expect("checked by engines()");
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("a database URL ends with /name");
    format!("{prefix}/{name}")
}

/// The engines to test on: SQLite always, PostgreSQL when configured.
fn engines() -> Vec<&'static str> {
    let mut engines = vec!["sqlite"];
    if std::env::var("LIENHOAN_TEST_POSTGRES_URL").is_ok() {
        engines.push("postgres");
    } else {
        eprintln!("LIENHOAN_TEST_POSTGRES_URL is not set: HTTP tests run on SQLite only");
    }
    engines
}

async fn start(engine: &str) -> Server {
    let database = fresh_database(engine).await;
    tokio::task::spawn_blocking(move || serve(&database, true))
        .await
        .unwrap()
}

/// Runs `lienhoan serve` on `database` (with the demo data when `demo`) on a free port.
fn serve(database: &str, demo: bool) -> Server {
    let mut args = vec!["--database", database, "serve", "--bind", "127.0.0.1:0"];
    if demo {
        args.push("--demo");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_lienhoan"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start lienhoan");
    let stdout = child.stdout.take().expect("piped stdout");
    // Keep draining the server's output so that it never writes into a closed pipe.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(start) = line.find("http://") {
                let rest = &line[start..];
                let url = rest[..rest.find(' ').unwrap_or(rest.len())].trim_end_matches('/');
                let _ = sender.send(url.to_owned());
            }
        }
    });
    let url = receiver.recv().expect("the server prints its URL");
    Server {
        child,
        url,
        database: database.to_owned(),
    }
}

fn client() -> Client {
    Client::builder().build().unwrap()
}

async fn login(server: &Server, username: &str) -> String {
    let response = client()
        .post(format!("{}/api/v1/sessions", server.url))
        .json(&json!({"username": username, "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "login {username}");
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get(server: &Server, token: &str, path: &str) -> (StatusCode, Value) {
    let response = client()
        .get(format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn send(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &str,
    lang: &str,
) -> (StatusCode, String, Value) {
    let response = client()
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept-language", lang)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn audit_total(server: &Server, admin: &str) -> i64 {
    let (status, page) = get(server, admin, "/api/v1/audit?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    page["total"].as_i64().unwrap()
}

async fn cluster_id(server: &Server, token: &str, name_part: &str) -> String {
    let (_, clusters) = get(server, token, "/api/v1/clusters").await;
    clusters
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains(name_part))
        .unwrap_or_else(|| panic!("cluster {name_part}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn each_role_sees_the_clusters_its_scope_allows() {
    for engine in engines() {
        let server = start(engine).await;
        for (role, expected) in [
            ("admin", 5),
            ("auditor", 5),
            ("coordinator", 1),
            ("commander", 1),
            ("officer", 1),
        ] {
            let token = login(&server, role).await;
            let (status, clusters) = get(&server, &token, "/api/v1/clusters").await;
            assert_eq!(status, StatusCode::OK);
            let clusters = clusters.as_array().unwrap();
            assert_eq!(clusters.len(), expected, "{engine} {role}: {clusters:?}");
        }
        let officer = login(&server, "officer").await;
        let admin = login(&server, "admin").await;
        let viet_tri = cluster_id(&server, &admin, "Việt Trì").await;
        let (status, _) = get(&server, &officer, &format!("/api/v1/clusters/{viet_tri}")).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{engine}: outside the officer's scope"
        );
    }
}

#[tokio::test]
async fn membership_answers_for_the_articles_dates() {
    for engine in engines() {
        let server = start(engine).await;
        let admin = login(&server, "admin").await;
        let viet_tri = cluster_id(&server, &admin, "Việt Trì").await;
        for (day, expected) in [
            ("2018-01-23", 0),
            ("2018-01-24", 8),
            ("2019-03-04", 8),
            ("2019-03-05", 9),
        ] {
            let (status, members) = get(
                &server,
                &admin,
                &format!("/api/v1/clusters/{viet_tri}/members?on={day}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                members.as_array().unwrap().len(),
                expected,
                "{engine} {day}"
            );
        }
        let (_, detail) = get(&server, &admin, &format!("/api/v1/clusters/{viet_tri}")).await;
        let regulations = detail["regulations"].as_array().unwrap();
        assert_eq!(regulations.len(), 2);
        assert_eq!(regulations[1]["signed_on"], "2018-01-24");
        assert_eq!(regulations[1]["signatories"].as_array().unwrap().len(), 8);
        let (_, units) = get(
            &server,
            &admin,
            "/api/v1/admin-units?q=n%C3%A0%20hang&level=district",
        )
        .await;
        assert!(
            units["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["code"] == "072"),
            "{engine}: Nà Hang by its article spelling: {units}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_localized_problem_and_writes_nothing() {
    for engine in engines() {
        let server = start(engine).await;
        let admin = login(&server, "admin").await;
        let cluster = cluster_id(&server, &admin, "Sông Lô").await;
        let (_, orgs) = get(&server, &admin, "/api/v1/organisations?q=dong%20que").await;
        let org = orgs["items"][0]["id"].as_str().unwrap().to_owned();
        let (_, detail) = get(&server, &admin, &format!("/api/v1/clusters/{cluster}")).await;
        let member_org = detail["members"][0]["organisation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let long_name = "x".repeat(201);
        let unknown = uuid::Uuid::now_v7();
        let members = format!("/api/v1/clusters/{cluster}/members");
        let rotation = format!("/api/v1/clusters/{cluster}/rotation");
        use reqwest::Method;
        let cases: Vec<(Method, String, String, StatusCode, &str)> = vec![
            (Method::POST, "/api/v1/clusters".into(), json!({"name": "", "kind": "inter_province", "founded_on": "2020-01-01"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "name"),
            (Method::POST, "/api/v1/clusters".into(), json!({"name": long_name, "kind": "inter_province", "founded_on": "2020-01-01"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "name"),
            (Method::POST, "/api/v1/clusters".into(), json!({"name": "Cụm", "kind": "galaxy", "founded_on": "2020-01-01"}).to_string(), StatusCode::BAD_REQUEST, "kind"),
            (Method::POST, "/api/v1/clusters".into(), json!({"name": "Cụm", "kind": "inter_province", "founded_on": 2020}).to_string(), StatusCode::BAD_REQUEST, "founded_on"),
            (Method::POST, "/api/v1/clusters".into(), json!({"name": "Cụm", "kind": "inter_province", "founded_on": "2020-01-01", "religion": "x"}).to_string(), StatusCode::BAD_REQUEST, "religion"),
            (Method::POST, "/api/v1/clusters".into(), "{\"name\": ".into(), StatusCode::BAD_REQUEST, ""),
            (Method::POST, "/api/v1/organisations".into(), json!({"name": "Công an xã X", "kind": "police", "admin_unit_id": unknown}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "admin_unit_id"),
            (Method::POST, members.clone(), json!({"organisation_id": org, "joined_on": "2015-07-02"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "joined_on"),
            (Method::POST, members.clone(), json!({"organisation_id": org, "joined_on": "2016-01-01", "left_on": "2015-12-31"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "left_on"),
            (Method::POST, members.clone(), json!({"organisation_id": member_org, "joined_on": "2016-01-01"}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "joined_on"),
            (Method::POST, members.clone(), json!({"organisation_id": org}).to_string(), StatusCode::BAD_REQUEST, "joined_on"),
            (Method::PUT, rotation.clone(), json!({"turns": [
                {"organisation_id": member_org, "starts_on": "2015-07-03", "ends_on": "2016-07-02"},
                {"organisation_id": member_org, "starts_on": "2016-07-10", "ends_on": "2017-07-02"}]}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "turns[1].starts_on"),
            (Method::PUT, rotation.clone(), json!({"turns": [
                {"organisation_id": member_org, "starts_on": "2015-07-03", "ends_on": "2016-07-02"},
                {"organisation_id": member_org, "starts_on": "2016-07-01", "ends_on": "2017-07-02"}]}).to_string(), StatusCode::UNPROCESSABLE_ENTITY, "turns[1].starts_on"),
            (Method::POST, "/api/v1/users".into(), json!({"username": "officer", "display_name": "X", "password": "longenough", "organisation_id": org, "role": "officer"}).to_string(), StatusCode::CONFLICT, "username"),
        ];
        let before = audit_total(&server, &admin).await;
        for (method, path, body, status, field) in cases {
            for lang in ["vi", "en"] {
                let (got, content_type, problem) =
                    send(&server, &admin, method.clone(), &path, &body, lang).await;
                assert_eq!(got, status, "{engine} {path} {body}: {problem}");
                assert_eq!(content_type, "application/problem+json", "{path} {body}");
                let errors = problem["errors"].as_array().cloned().unwrap_or_default();
                if !field.is_empty() {
                    assert!(
                        errors.iter().any(|e| e["field"] == field),
                        "{engine} {body}: expected field {field} in {problem}"
                    );
                }
                let title = problem["title"].as_str().unwrap();
                let english = title.is_ascii();
                assert_eq!(english, lang == "en", "{lang}: {title}");
            }
        }
        let oversized = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
        let (status, _, _) = send(
            &server,
            &admin,
            Method::POST,
            "/api/v1/clusters",
            &oversized,
            "vi",
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            audit_total(&server, &admin).await,
            before,
            "{engine}: rejected writes were audited"
        );

        let (status, _, _) = send(
            &server,
            &admin,
            Method::POST,
            &members,
            &json!({"organisation_id": org, "joined_on": "2020-01-01"}).to_string(),
            "vi",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(audit_total(&server, &admin).await, before + 1);
    }
}

#[tokio::test]
async fn roles_cannot_reach_past_their_scope() {
    for engine in engines() {
        let server = start(engine).await;
        let admin = login(&server, "admin").await;
        let commander = login(&server, "commander").await;
        let officer = login(&server, "officer").await;
        let (_, users) = get(&server, &commander, "/api/v1/users").await;
        let names: Vec<&str> = users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["commander"], "{engine}");
        let (_, all_users) = get(&server, &admin, "/api/v1/users").await;
        let officer_id = all_users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "officer")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        use reqwest::Method;
        let (status, _, _) = send(
            &server,
            &commander,
            Method::PUT,
            &format!("/api/v1/users/{officer_id}/disabled"),
            "{\"disabled\": true}",
            "vi",
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{engine}: another organisation's user"
        );
        let cluster = cluster_id(&server, &officer, "Sông Lô").await;
        let (_, orgs) = get(&server, &admin, "/api/v1/organisations?q=dong%20que").await;
        let org = orgs["items"][0]["id"].as_str().unwrap();
        let body = json!({"organisation_id": org, "joined_on": "2020-01-01"}).to_string();
        let path = format!("/api/v1/clusters/{cluster}/members");
        let (status, _, _) = send(&server, &officer, Method::POST, &path, &body, "vi").await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{engine}: officers do not edit clusters"
        );
        let coordinator = login(&server, "coordinator").await;
        let (status, _, _) = send(&server, &coordinator, Method::POST, &path, &body, "vi").await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{engine}: a member's coordinator edits"
        );
        let (status, _) = get(&server, &officer, "/api/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = get(&server, "not-a-token", "/api/v1/clusters").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn cookie_sessions_refuse_cross_site_writes_and_logins_are_rate_limited() {
    let server = start("sqlite").await;
    let token = login(&server, "admin").await;
    let response = client()
        .post(format!("{}/api/v1/clusters", server.url))
        .header("cookie", format!("lienhoan_session={token}"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body(
            json!({"name": "Cụm X", "kind": "inter_commune", "founded_on": "2020-01-01"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = get(&server, &token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..5 {
        let response = client()
            .post(format!("{}/api/v1/sessions", server.url))
            .json(&json!({"username": "officer", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = client()
        .post(format!("{}/api/v1/sessions", server.url))
        .json(&json!({"username": "officer", "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn openapi_describes_the_routes_that_are_served() {
    let server = start("sqlite").await;
    let (status, doc) = get(&server, "", "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    let id = uuid::Uuid::now_v7().to_string();
    for (path, operations) in paths {
        let concrete = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    id.as_str()
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in operations.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = client()
                .request(method.clone(), format!("{}{concrete}", server.url))
                .send()
                .await
                .unwrap();
            // Every documented route exists: unauthenticated callers get a problem, not the
            // router's plain 404 or 405.
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert!(
                content_type == "application/problem+json"
                    && [StatusCode::UNAUTHORIZED, StatusCode::UNSUPPORTED_MEDIA_TYPE]
                        .contains(&status),
                "{method} {path}: {status} {content_type}"
            );
        }
    }
    let (status, _) = get(&server, "", "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let metrics = client()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("lienhoan_http_requests_total"),
        "{metrics}"
    );
}

async fn execute_directly(database: &str, sql: &'static str) {
    use sqlx::Connection;
    if database.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(database).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{database}"))
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

fn audit_verify(database: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lienhoan"))
        .args(["--database", database, "audit", "verify"])
        .output()
        .unwrap()
}

#[tokio::test]
async fn audit_verify_finds_an_edited_row() {
    for engine in engines() {
        let server = start(engine).await;
        let database = server.database.clone();
        drop(server);
        let verify = || audit_verify(&database);
        let intact = verify();
        assert!(
            intact.status.success(),
            "{}",
            String::from_utf8_lossy(&intact.stderr)
        );
        execute_directly(
            &database,
            "UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 7",
        )
        .await;
        let broken = verify();
        assert!(!broken.status.success(), "{engine}");
        let message = String::from_utf8_lossy(&broken.stderr);
        assert!(message.contains("entry 7"), "{engine}: {message}");
        execute_directly(
            &database,
            "UPDATE audit_log SET actor_name = 'system' WHERE seq = 7",
        )
        .await;
        assert!(
            verify().status.success(),
            "{engine}: restoring the row restores the chain"
        );
        execute_directly(&database, "DELETE FROM audit_log WHERE seq = 20").await;
        let message = String::from_utf8_lossy(&verify().stderr).into_owned();
        assert!(message.contains("entry 21"), "{engine}: {message}");
    }
}

/// Starts another server process on the same database, without loading the demo again.
fn start_another(database: &str) -> Server {
    serve(database, false)
}

async fn commune_of(server: &Server, token: &str, name: &str) -> String {
    let (_, units) = get(
        server,
        token,
        &format!("/api/v1/admin-units?level=commune&dataset=2024&q={name}"),
    )
    .await;
    units["items"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_cross_border_incident_reaches_the_neighbours_open_browser() {
    for engine in engines() {
        let writer_server = start(engine).await;
        // On PostgreSQL the browser is served by another process, so the event crosses
        // processes through LISTEN/NOTIFY.
        let other;
        let reader_server = if engine == "postgres" {
            other = start_another(&writer_server.database);
            &other
        } else {
            &writer_server
        };
        let officer = login(&writer_server, "officer").await;
        let commander = login(reader_server, "commander").await;
        let mut stream = client()
            .get(format!("{}/api/v1/events", reader_server.url))
            .bearer_auth(&commander)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        let commune = commune_of(&writer_server, &officer, "quang%20yen").await;
        let incident = json!({
            "commune_id": commune, "place": "Bến đò Quang Yên",
            "occurred_at": "2026-01-05T08:00:00+07:00", "reported_at": "2026-01-05T09:00:00+07:00",
            "category": "criminal.theft", "status": "received", "outcome": "none",
            "cross_border": true
        });
        let started = std::time::Instant::now();
        let (status, _, created) = send(
            &writer_server,
            &officer,
            reqwest::Method::POST,
            "/api/v1/incidents",
            &incident.to_string(),
            "vi",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{engine}: {created}");
        let id = created["id"].as_str().unwrap();
        let mut received = String::new();
        while !received.contains(id) {
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
                .await
                .unwrap_or_else(|_| panic!("{engine}: no live event within 5 s: {received}"))
                .unwrap()
                .expect("the stream stays open");
            received.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(received.contains("event: incident"), "{received}");
        eprintln!("{engine}: live event after {:?}", started.elapsed());
        let (status, seen) = get(
            reader_server,
            &commander,
            &format!("/api/v1/incidents/{id}"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{engine}: a shared cross-border incident is visible: {seen}"
        );
    }
}

#[tokio::test]
async fn the_register_is_need_to_know_audited_and_purged() {
    for engine in engines() {
        let server = start(engine).await;
        let officer = login(&server, "officer").await;
        let commander = login(&server, "commander").await;
        let admin = login(&server, "admin").await;
        let commune = commune_of(&server, &officer, "quang%20yen").await;
        let person = |ends_on: &str| {
            json!({
                "full_name": "Trần Văn Khải", "birth_year": 1988, "identity_number": "026088001234",
                "home_commune_id": commune, "decision_type": "probation",
                "decision_number": "15/2019/HS-ST", "issuing_body": "TAND huyện Sông Lô",
                "starts_on": "2019-06-01", "ends_on": ends_on
            })
            .to_string()
        };
        use reqwest::Method;
        let (status, _, current) = send(
            &server,
            &officer,
            Method::POST,
            "/api/v1/register/persons",
            &person("2030-06-01"),
            "vi",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{engine}: {current}");
        let (status, _, expired) = send(
            &server,
            &officer,
            Method::POST,
            "/api/v1/register/persons",
            &person("2020-06-01"),
            "vi",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let current_id = current["id"].as_str().unwrap().to_owned();
        let expired_id = expired["id"].as_str().unwrap().to_owned();
        let with_religion =
            person("2030-06-01").replace("\"birth_year\"", "\"religion\": \"x\", \"birth_year\"");
        let (status, _, _) = send(
            &server,
            &officer,
            Method::POST,
            "/api/v1/register/persons",
            &with_religion,
            "vi",
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{engine}: no such field exists"
        );

        let path = format!("/api/v1/register/persons/{current_id}");
        assert_eq!(
            get(&server, &commander, &path).await.0,
            StatusCode::NOT_FOUND,
            "{engine}"
        );
        assert_eq!(
            get(&server, &admin, &path).await.0,
            StatusCode::FORBIDDEN,
            "{engine}"
        );
        let (_, me) = get(&server, &commander, "/api/v1/me").await;
        let notice = json!({
            "person_id": current_id, "to_organisation_id": me["organisation_id"],
            "moved_on": "2026-01-10", "destination": "Thôn Đồng Giang, xã Lãng Công"
        });
        let (status, _, _) = send(
            &server,
            &officer,
            Method::POST,
            "/api/v1/register/movements",
            &notice.to_string(),
            "vi",
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let before = audit_total(&server, &admin).await;
        let (status, seen) = get(&server, &commander, &path).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{engine}: the notified organisation reads it"
        );
        assert_eq!(seen["full_name"], "Trần Văn Khải");
        let (_, log) = get(
            &server,
            &admin,
            &format!("/api/v1/audit?target_id={current_id}&action=register.read"),
        )
        .await;
        assert_eq!(log["total"], 1, "{engine}: the read is in the audit log");
        assert_eq!(audit_total(&server, &admin).await, before + 1);

        let database = server.database.clone();
        drop(server);
        let purge = Command::new(env!("CARGO_BIN_EXE_lienhoan"))
            .args(["--database", &database, "purge"])
            .output()
            .unwrap();
        assert!(
            purge.status.success(),
            "{}",
            String::from_utf8_lossy(&purge.stderr)
        );
        assert!(
            String::from_utf8_lossy(&purge.stdout).starts_with("1 "),
            "{engine}"
        );
        let server = start_another(&database);
        let officer = login(&server, "officer").await;
        let admin = login(&server, "admin").await;
        let gone = format!("/api/v1/register/persons/{expired_id}");
        assert_eq!(
            get(&server, &officer, &gone).await.0,
            StatusCode::NOT_FOUND,
            "{engine}: purged"
        );
        assert_eq!(
            get(&server, &officer, &path).await.0,
            StatusCode::OK,
            "{engine}: kept"
        );
        let (_, log) = get(
            &server,
            &admin,
            &format!("/api/v1/audit?target_id={expired_id}"),
        )
        .await;
        assert!(
            log["total"].as_i64().unwrap() >= 1,
            "{engine}: the audit entries stay"
        );
    }
}

#[tokio::test]
async fn a_large_import_with_one_bad_row_writes_nothing() {
    for engine in engines() {
        let server = start(engine).await;
        let officer = login(&server, "officer").await;
        let admin = login(&server, "admin").await;
        let template = client()
            .get(format!("{}/api/v1/incidents/template/csv", server.url))
            .bearer_auth(&officer)
            .send()
            .await
            .unwrap();
        assert_eq!(template.status(), StatusCode::OK);
        let template = template.text().await.unwrap();
        let header = template
            .lines()
            .next()
            .unwrap()
            .trim_start_matches('\u{feff}');
        assert!(header.contains("Mã xã [commune_code]"), "{header}");
        let mut csv = format!("{header}\n");
        for i in 0..3000 {
            let day = 1 + i % 28;
            let month = 1 + (i / 28) % 12;
            let status = if i == 2500 { "finished" } else { "solved" };
            csv.push_str(&format!(
                "08776,{day:02}/{month:02}/2019 10:00,,criminal.theft,{status},prosecuted,1,1,0,0,0,0,không,Thôn {i},\n"
            ));
        }
        let before = audit_total(&server, &admin).await;
        let response = client()
            .post(format!("{}/api/v1/incidents/import", server.url))
            .bearer_auth(&officer)
            .header("content-type", "text/csv")
            .header("accept-language", "en")
            .body(csv.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(
            problem["errors"].as_array().unwrap().len(),
            1,
            "{engine}: {problem}"
        );
        assert_eq!(problem["errors"][0]["line"], 2502);
        assert_eq!(problem["errors"][0]["column"], "status");
        assert_eq!(
            audit_total(&server, &admin).await,
            before,
            "{engine}: nothing written"
        );
        let (_, listed) = get(
            &server,
            &officer,
            "/api/v1/incidents?from=2019-01-01&to=2019-12-31&q=th%C3%B4n",
        )
        .await;
        assert_eq!(listed["total"], 0);

        let fixed = csv.replace(",finished,", ",solved,");
        let response = client()
            .post(format!("{}/api/v1/incidents/import", server.url))
            .bearer_auth(&officer)
            .header("content-type", "text/csv")
            .body(fixed)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{engine}");
        let (_, listed) = get(
            &server,
            &officer,
            "/api/v1/incidents?from=2019-01-01&to=2019-12-31&q=thon%2042",
        )
        .await;
        assert!(listed["total"].as_i64().unwrap() >= 1, "{engine}: {listed}");
        let cluster = cluster_id(&server, &officer, "Sông Lô").await;
        let (_, stats) = get(
            &server,
            &officer,
            &format!("/api/v1/statistics?cluster={cluster}&from=2019-01-01&to=2019-12-31&group_by=category"),
        )
        .await;
        let theft = stats["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["keys"][0] == "criminal.theft")
            .unwrap()["figures"]["incidents"]
            .as_i64()
            .unwrap();
        assert!(
            theft >= 3000,
            "{engine}: imported incidents are counted: {theft}"
        );
        assert!(stats.get("total_change").is_none(), "{engine}: {stats}");
        assert!(stats["rows"][0].get("change").is_none(), "{engine}");
        let (_, compared) = get(
            &server,
            &officer,
            &format!("/api/v1/statistics?cluster={cluster}&from=2019-01-01&to=2019-12-31&group_by=category&compare=previous_year"),
        )
        .await;
        let incidents = |figures: &Value| figures["incidents"].as_i64().unwrap();
        for row in compared["rows"].as_array().unwrap() {
            assert_eq!(
                row["change"]["incidents"]["difference"].as_i64().unwrap(),
                incidents(&row["figures"]) - incidents(&row["previous"]),
                "{engine}: {row}"
            );
        }
        let total = &compared["total_change"]["incidents"];
        assert_eq!(
            total["difference"].as_i64().unwrap(),
            incidents(&compared["total"]) - incidents(&compared["previous_total"]),
            "{engine}: {compared}"
        );
        assert_eq!(
            compared["total_change"].as_object().unwrap().len(),
            8,
            "{engine}: every measure changes"
        );
    }
}

/// Writers share commits (on SQLite, a group of them one transaction), so the server is killed
/// while many are in flight: every write it acknowledged must be there after the restart, and
/// the audit chain must still verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_a_killed_server() {
    const POSTERS: usize = 16;
    const ACKS_BEFORE_THE_KILL: usize = 200;
    for engine in engines() {
        let mut server = start(engine).await;
        let officer = login(&server, "officer").await;
        let commune = commune_of(&server, &officer, "quang%20yen").await;
        let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let posters: Vec<_> = (0..POSTERS)
            .map(|poster| {
                let (url, officer, commune, acked) = (
                    server.url.clone(),
                    officer.clone(),
                    commune.clone(),
                    acked.clone(),
                );
                tokio::spawn(async move {
                    let client = client();
                    for n in 0.. {
                        let incident = json!({
                            "commune_id": commune, "place": format!("Bến đò {poster}-{n}"),
                            "occurred_at": "2026-01-05T08:00:00+07:00",
                            "reported_at": "2026-01-05T09:00:00+07:00",
                            "category": "criminal.theft", "status": "received", "outcome": "none"
                        });
                        let sent = client
                            .post(format!("{url}/api/v1/incidents"))
                            .bearer_auth(&officer)
                            .json(&incident)
                            .send()
                            .await;
                        // The kill ends every poster with a refused or cut connection.
                        let Ok(response) = sent else { return };
                        if response.status() != StatusCode::CREATED {
                            return;
                        }
                        let Ok(created) = response.json::<Value>().await else {
                            return;
                        };
                        let id = created["id"].as_str().unwrap().to_owned();
                        acked.lock().unwrap().push(id);
                    }
                })
            })
            .collect();
        while acked.lock().unwrap().len() < ACKS_BEFORE_THE_KILL {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for poster in posters {
            poster.await.unwrap();
        }
        let acked = acked.lock().unwrap().clone();

        let verified = audit_verify(&server.database);
        assert!(
            verified.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
        let restarted = start_another(&server.database);
        let officer = login(&restarted, "officer").await;
        for id in &acked {
            let (status, _) = get(&restarted, &officer, &format!("/api/v1/incidents/{id}")).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{engine}: acknowledged incident {id} was lost in the kill"
            );
        }
        eprintln!("{engine}: all {} acknowledged writes survived", acked.len());
    }
}
