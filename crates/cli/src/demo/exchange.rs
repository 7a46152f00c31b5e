//! A few messages and a register entry, so the inbox and the register are not empty in the demo.
//! Written once, with the demo accounts that would write them.

use lienhoan_domain::access::Actor;
use lienhoan_domain::exchange::{MessageInput, MessageKind};
use lienhoan_domain::format::local_date;
use lienhoan_domain::register::{DecisionType, MovementInput, PersonInput};
use lienhoan_store::Store;
use time::{Duration, OffsetDateTime, macros::date};
use uuid::Uuid;

async fn actor(store: &dyn Store, username: &str) -> anyhow::Result<Actor> {
    let user = store.user_by_username(&Actor::system(), username).await?;
    Ok(Actor {
        user_id: user.id,
        username: user.username,
        organisation_id: user.organisation_id,
        role: user.role,
    })
}

pub async fn add(store: &dyn Store, song_lo_cluster: Uuid) -> anyhow::Result<()> {
    let today = local_date(OffsetDateTime::now_utc());
    let coordinator = actor(store, "coordinator").await?;
    let officer = actor(store, "officer").await?;
    let commander = actor(store, "commander").await?;
    let lang_cong = commander
        .organisation_id
        .expect("the demo commander has an organisation");
    store
        .send_message(
            &coordinator,
            &MessageInput {
                kind: MessageKind::Bulletin,
                cluster_id: song_lo_cluster,
                title: "Triển khai đợt cao điểm tấn công trấn áp tội phạm dịp cuối năm".into(),
                body: "Đề nghị các xã trong cụm tăng cường tuần tra chung tại các tuyến giáp ranh, trao đổi thông tin về đối tượng nghi vấn.".into(),
                addressees: Vec::new(),
                deadline: None,
                incident_id: None,
            },
        )
        .await?;
    store
        .send_message(
            &officer,
            &MessageInput {
                kind: MessageKind::Request,
                cluster_id: song_lo_cluster,
                title: "Đề nghị phối hợp xác minh đối tượng trộm cắp xe máy".into(),
                body: "Đối tượng nghi vấn thường qua lại bến đò giữa hai xã; đề nghị xã Lãng Công cung cấp thông tin.".into(),
                addressees: vec![lang_cong],
                deadline: Some(today + Duration::days(7)),
                incident_id: None,
            },
        )
        .await?;
    let home = store
        .organisation(officer.organisation_id.expect("an organisation"))
        .await?;
    let person = store
        .add_person(
            &officer,
            &PersonInput {
                full_name: "Phùng Văn Tư".into(),
                birth_year: 1991,
                identity_number: None,
                home_commune_id: home.organisation.admin_unit_id,
                decision_type: DecisionType::Probation,
                decision_number: "27/2024/HS-ST".into(),
                issuing_body: "TAND huyện Sông Lô".into(),
                starts_on: date!(2024 - 03 - 01),
                ends_on: date!(2027 - 03 - 01),
            },
        )
        .await?;
    store
        .notify_movement(
            &officer,
            &MovementInput {
                person_id: person.id,
                to_organisation_id: lang_cong,
                moved_on: today,
                destination: "Thôn Đồng Giang, xã Lãng Công".into(),
                note: "Đi làm thuê theo mùa vụ".into(),
            },
        )
        .await?;
    Ok(())
}
